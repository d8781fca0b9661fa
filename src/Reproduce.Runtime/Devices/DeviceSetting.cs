using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Runtime.Devices;

/// <summary>
/// The configured compute device ("cpu", "cuda" or "cuda:N"): which names are valid, whether this build and machine
/// can run them, and the devices the tests run on. The build switch decides which TorchSharp package (and so which
/// libtorch) is linked: <c>-p:TorchBackend=cpu</c> (the default, TorchSharp-cpu) or <c>-p:TorchBackend=cuda</c>
/// (TorchSharp-cuda-linux); see Directory.Build.props. CUDA is usable only when the cuda backend is linked AND libtorch
/// finds a GPU and driver (<c>torch.cuda.is_available()</c>).
/// </summary>
public static class DeviceSetting
{
    /// <summary>The MSBuild property that selects the torch backend.</summary>
    public const string BuildSwitch = "-p:TorchBackend=cuda";

    /// <summary>The torch backend this build links ("cpu" or "cuda"), recorded at build time in this assembly's metadata.</summary>
    public static string Backend { get; } = typeof(DeviceSetting).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "TorchBackend")?.Value ?? "unknown";

    /// <summary>Does libtorch see a usable CUDA device in this process?</summary>
    public static bool CudaAvailable => torch.cuda.is_available();

    /// <summary>Why <paramref name="name"/> cannot be used here, or null when it can (checked against this build and machine).</summary>
    public static string? Problem(string? name) => Problem(name, CudaAvailable, CudaAvailable ? torch.cuda.device_count() : 0, Backend);

    /// <summary>
    /// Why <paramref name="name"/> cannot be used on a machine where CUDA is or is not available (with
    /// <paramref name="cudaDevices"/> devices) in a build linking <paramref name="backend"/>; null when it can.
    /// Separate from the machine's facts so tests can pose a machine without CUDA on a machine with one.
    /// </summary>
    public static string? Problem(string? name, bool cudaAvailable, int cudaDevices, string backend)
    {
        if (!TryParse(name, out var device))
            return $"unknown device '{name}'; valid: cpu, cuda, cuda:N (N = 0, 1, ... a CUDA device index)";
        if (device.type == DeviceType.CPU) return null;
        if (!cudaAvailable)
            return backend == "cuda"
                ? $"'{name}' needs a CUDA GPU, but torch.cuda.is_available() is false: this build links TorchSharp-cuda-linux ({BuildSwitch}), "
                  + "yet libtorch found no usable GPU or driver. Use Device=cpu, or run on a machine with an NVIDIA GPU and driver"
                : $"'{name}' needs a CUDA GPU, but torch.cuda.is_available() is false: this build links the '{backend}' torch backend (TorchSharp-cpu). "
                  + $"Rebuild with {BuildSwitch} (Directory.Build.props; needs the TorchSharp-cuda-linux package on your NuGet feed) "
                  + "on a machine with an NVIDIA GPU, or use Device=cpu";
        if (device.index >= cudaDevices)
            return $"'{name}' names CUDA device {device.index}, but torch.cuda.device_count() is {cudaDevices} (valid: {string.Join(", ", Enumerable.Range(0, cudaDevices).Select(i => $"cuda:{i}"))})";
        return null;
    }

    /// <summary>The device <paramref name="name"/> names; an ArgumentException saying why when it cannot be used here.</summary>
    public static Device Parse(string? name)
    {
        if (Problem(name) is { } problem) throw new ArgumentException($"Device: {problem}.");
        TryParse(name, out var device);
        return device;
    }

    /// <summary>Reads "cpu", "cuda" or "cuda:N" (N a non-negative integer, no spaces, lower case) without touching CUDA.</summary>
    public static bool TryParse(string? name, out Device device)
    {
        device = torch.CPU;
        if (name == "cpu") return true;
        if (name == "cuda") { device = new Device(DeviceType.CUDA, -1); return true; }
        if (name is not null && name.StartsWith("cuda:", StringComparison.Ordinal) && name.Length > 5 && name[5..].All(char.IsAsciiDigit)
            && int.TryParse(name[5..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            device = new Device(DeviceType.CUDA, index);
            return true;
        }
        return false;
    }

    /// <summary>The devices this process can compute on: the CPU, then every CUDA device libtorch reports.</summary>
    public static IReadOnlyList<Device> Available()
    {
        var devices = new List<Device> { torch.CPU };
        if (CudaAvailable)
            for (int i = 0; i < torch.cuda.device_count(); i++) devices.Add(new Device(DeviceType.CUDA, i));
        return devices;
    }
}
