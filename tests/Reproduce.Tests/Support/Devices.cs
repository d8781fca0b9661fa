using NUnit.Framework;
using Reproduce.Runtime.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Support;

/// <summary>
/// The one catalogue of devices the tests run on: the CPU, plus every CUDA device torch reports
/// (<see cref="DeviceSetting.Available"/>). A test takes a device with
/// <c>[TestCaseSource(typeof(Devices), nameof(Devices.Available))]</c>, or crosses its own cases with
/// <see cref="OnEvery"/>; on a machine without CUDA the catalogue is just the CPU, so such tests run once, as before.
/// <see cref="Meta"/> is not in the catalogue: it is libtorch's data-free device, a second device that exists on every
/// machine, used only by tests that check where tensors are created (it cannot run anything that reads values).
/// </summary>
public static class Devices
{
    /// <summary>Every device this process can compute on, one test case each, named by the device ("cpu", "cuda:0").</summary>
    public static IEnumerable<TestCaseData> Available() =>
        DeviceSetting.Available().Select(d => new TestCaseData(d).SetArgDisplayNames(d.ToString()));

    /// <summary>Each of <paramref name="cases"/> once per available device: the device is appended as the last argument and to the name.</summary>
    public static IEnumerable<TestCaseData> OnEvery(IEnumerable<TestCaseData> cases)
    {
        foreach (var c in cases)
            foreach (var device in DeviceSetting.Available())
            {
                var crossed = new TestCaseData([.. c.Arguments, device]);
                crossed.SetName($"{c.TestName ?? string.Join(", ", c.Arguments)} on {device}");
                yield return crossed;
            }
    }

    /// <summary>libtorch's meta device: tensors with shapes, dtypes and a device, but no data.</summary>
    public static Device Meta => new(DeviceType.META, -1);

    /// <summary>
    /// Does <paramref name="tensor"/> live on <paramref name="device"/>: the same device type and, for a CUDA device
    /// with an index, the same index? (Written here, not borrowed from the library, so tests check the library independently.)
    /// </summary>
    public static bool IsOn(Tensor tensor, Device device) =>
        tensor.device_type == device.type && (device.type != DeviceType.CUDA || device.index < 0 || tensor.device_index == device.index);
}
