using System.Runtime.InteropServices;

namespace Reproduce.Runtime.Native;

/// <summary>glibc's malloc tuning (mallopt(3)), used by <see cref="HeapSettings"/>.
/// mallopt returns 1 on success; where the C library is not glibc the call throws EntryPointNotFoundException or
/// DllNotFoundException, which each caller turns into its own "not applied" state.</summary>
internal static class Glibc
{
    public const int MallocTrimThreshold = -1, MallocTopPad = -2, MallocMmapThreshold = -3;

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    public static extern int Mallopt(int parameter, int value);
}

/// <summary>Symbols of libtorch's own libraries, as the process has already loaded them (dlopen with RTLD_NOLOAD, so
/// the handle is the very copy libtorch calls into, never a second one). Used by <see cref="MklDispatch"/> (MKL's
/// vendor answer in libtorch_cpu.so) and <see cref="AllocationZeroing"/> (c10's fill flags in libc10.so).</summary>
internal static class LoadedLibrary
{
    /// <summary>The address of <paramref name="symbol"/> in the loaded <paramref name="library"/>, or
    /// <see cref="IntPtr.Zero"/> with the reason ("not loaded by name", "exports no ...").</summary>
    public static IntPtr Symbol(string library, string symbol, out string why)
    {
        // Loading TorchSharp's natives allocates no tensor and runs no MKL routine; it makes libtorch's libraries
        // resident, so that RTLD_NOLOAD finds them.
        _ = TorchSharp.torch.get_num_threads();
        IntPtr handle = dlopen(library, RtldNow | RtldNoLoad);
        if (handle == IntPtr.Zero) { why = $"{library} is not loaded by name"; return IntPtr.Zero; }
        IntPtr address = dlsym(handle, symbol);
        why = address == IntPtr.Zero ? $"{library} exports no {symbol}" : "";
        return address;
    }

    private const int RtldNow = 2, RtldNoLoad = 4;

    [DllImport("libdl.so.2")]
    private static extern IntPtr dlopen(string file, int mode);

    [DllImport("libdl.so.2")]
    private static extern IntPtr dlsym(IntPtr handle, string name);
}

/// <summary>The suite's opt-out switches for its native settings (MKL dispatch, heap settings, allocation zeroing): one
/// environment variable each, which turns the setting off when it reads "off", "0", "false" or "no".</summary>
internal static class OptOut
{
    /// <summary>True when <paramref name="variable"/> asks for the setting to be off; <paramref name="value"/> is its trimmed value.</summary>
    public static bool Requested(string variable, out string value)
    {
        value = Environment.GetEnvironmentVariable(variable)?.Trim() ?? "";
        return value.ToLowerInvariant() is "off" or "0" or "false" or "no";
    }
}
