using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Runtime.Devices;

/// <summary>
/// Moving tensors between devices, and the one rule for random draws: every seeded draw is made by a CPU
/// <see cref="Generator"/> into a CPU tensor and then moved to the device that needs it. A CPU generator's stream does
/// not depend on where the result goes, so a seeded probe, start vector or perturbation holds the same bits on every
/// device; and on the CPU the move is the identity (the same tensor object is returned), so CPU results are exactly
/// those of code that never moved anything.
/// </summary>
public static class DeviceTransfer
{
    /// <summary>
    /// Does <paramref name="tensor"/> live on <paramref name="device"/>? A CUDA device without an index ("cuda") means
    /// the current CUDA device, so any CUDA tensor is taken to be on it; "cuda:N" must match N exactly.
    /// </summary>
    public static bool IsOn(Tensor tensor, Device device)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(device);
        if (tensor.device_type != device.type) return false;
        return device.type != DeviceType.CUDA || device.index < 0 || tensor.device_index == device.index;
    }

    /// <summary>Two concrete devices (as tensors report them) are the same device: same type and same index.</summary>
    public static bool Same(Device a, Device b) => a.type == b.type && (a.type != DeviceType.CUDA || a.index == b.index);

    /// <summary>
    /// <paramref name="tensor"/> itself when it already lives on <paramref name="device"/> (no copy, no new handle), else
    /// a copy there (the caller's dispose scope owns the copy; the original is left as it was).
    /// </summary>
    public static Tensor OnDevice(this Tensor tensor, Device device) => IsOn(tensor, device) ? tensor : tensor.to(device);
}
