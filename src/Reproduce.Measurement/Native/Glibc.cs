using System.Runtime.InteropServices;

namespace Reproduce.Measurement.Native;

/// <summary>glibc's malloc tuning (mallopt(3)), used by <see cref="HeapSettings"/>.
/// mallopt returns 1 on success; where the C library is not glibc the call throws EntryPointNotFoundException or
/// DllNotFoundException, which each caller turns into its own "not applied" state.</summary>
internal static class Glibc
{
    public const int MallocTrimThreshold = -1, MallocTopPad = -2, MallocMmapThreshold = -3;

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    public static extern int Mallopt(int parameter, int value);
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
