using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Runtime.Devices;

/// <summary>
/// The one door from tensors to .NET arrays. <c>Tensor.data&lt;T&gt;()</c> maps the tensor's memory and works only on
/// CPU tensors; a tensor that may live on a GPU is copied to the host first. On the CPU nothing is copied: the values
/// are read exactly as <c>data&lt;T&gt;().ToArray()</c> reads them. (Single values read with <c>item&lt;T&gt;()</c>
/// need no help: libtorch's item() copies the one element to the host from any device.)
/// A test (HostReadTests) fails if <c>.data&lt;</c> appears in the library's source anywhere but here.
/// </summary>
public static class HostRead
{
    /// <summary>The tensor's elements in row-major order as a new array, from any device.</summary>
    public static T[] ToArray<T>(Tensor tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.device_type == DeviceType.CPU) return tensor.data<T>().ToArray();
        using var host = tensor.cpu();
        return host.data<T>().ToArray();
    }
}
