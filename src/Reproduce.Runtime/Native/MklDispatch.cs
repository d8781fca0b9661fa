using System.Runtime.InteropServices;

namespace Reproduce.Runtime.Native;

/// <summary>
/// oneMKL's kernel choice on AMD processors. libtorch links oneMKL statically; MKL picks its code path through
/// <c>mkl_serv_intel_cpu_true()</c>, which runs CPUID once, compares the vendor string with "GenuineIntel" and caches
/// the answer (0 or 1) in a private word that starts at -1. On an AMD CPU the answer is 0 and MKL takes its generic
/// SSE kernels even where the CPU has AVX2 or AVX-512; with the word set to 1 MKL dispatches on the CPU's instruction
/// sets, as it does on Intel (measured on this AMD EPYC: the 1000×784×128 GEMM 1.72 → 0.83 ms, the MLP HVP 8.1 → 4.7 ms).
///
/// <para>How: the function's first instruction is <c>mov eax, [rip + d]</c> reading that word, so its address is
/// the function's address + 6 + d. We check the exact instruction bytes (<c>8b 05 d d d d 85 c0 78 01 c3</c>:
/// load, test, branch if negative, return), check that the word is still -1 (MKL has not decided yet), and store 1.
/// Nothing is written to code; any mismatch leaves MKL untouched and says why in <see cref="State"/>.</para>
///
/// <para>When: only on AMD (or Hygon) CPUs with AVX2 and FMA, where MKL's own dispatch then helps, and not when
/// <c>REPRODUCE_MKL_FAST_PATH=off</c> (the one opt-out). It must run before MKL's first call in the process: every
/// entry point (the CLI, the test assembly) calls <see cref="Apply"/> first. The state is part of every result's
/// provenance and of the execution environment that decides whether two runs must agree bit for bit.</para>
/// </summary>
public static class MklDispatch
{
    /// <summary>The environment variable that turns the override off ("off", "0" or "false").</summary>
    public const string OptOutVariable = "REPRODUCE_MKL_FAST_PATH";

    private static readonly Lazy<string> Applied = new(ApplyOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Applies the override once per process (idempotent) and returns <see cref="State"/>.</summary>
    public static string Apply() => Applied.Value;

    /// <summary>
    /// What MKL dispatches on in this process, e.g. "fast path (AMD; MKL dispatches on AVX2/AVX-512)",
    /// "generic (opted out: REPRODUCE_MKL_FAST_PATH=off)", "native (Intel)".
    /// </summary>
    public static string State => Applied.Value;

    /// <summary>True when this process's environment sets <see cref="OptOutVariable"/> to "off", "0", "false" or "no".</summary>
    public static bool OptedOut => OptOut.Requested(OptOutVariable, out _);

    /// <summary>True when <see cref="Apply"/> set MKL's vendor answer to 1 in this process.</summary>
    public static bool FastPathOn => Applied.Value.StartsWith("fast path", StringComparison.Ordinal);

    private static string ApplyOnce()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return "not applicable (not x86-64 Linux)";
        var cpu = CpuIdentity.Read();
        if (cpu.Vendor == "GenuineIntel") return "native (Intel)";
        if (cpu.Vendor is not ("AuthenticAMD" or "HygonGenuine")) return $"generic (vendor '{cpu.Vendor}')";
        if (OptOut.Requested(OptOutVariable, out string optOut))
            return $"generic (opted out: {OptOutVariable}={optOut})";
        if (!(cpu.Flags.Contains("avx2") && cpu.Flags.Contains("fma")))
            return "generic (AMD without AVX2/FMA: MKL's generic path is its best here)";

        IntPtr function = LoadedLibrary.Symbol("libtorch_cpu.so", "mkl_serv_intel_cpu_true", out string why);
        if (function == IntPtr.Zero) return $"generic ({why})";

        var code = new byte[11];
        Marshal.Copy(function, code, 0, code.Length);
        if (!(code[0] == 0x8b && code[1] == 0x05 && code[6] == 0x85 && code[7] == 0xc0 && code[8] == 0x78 && code[9] == 0x01 && code[10] == 0xc3))
            return "generic (mkl_serv_intel_cpu_true has an unrecognised body: a different MKL build)";
        int displacement = BitConverter.ToInt32(code, 2);
        IntPtr cached = function + 6 + displacement;
        int before = Marshal.ReadInt32(cached);
        if (before != -1) return $"generic (MKL had already decided: cached answer {before})";
        Marshal.WriteInt32(cached, 1);
        return "fast path (AMD; MKL dispatches on AVX2/AVX-512)";
    }
}

/// <summary>The CPU vendor, model name and instruction-set flags, as /proc/cpuinfo reports them for the first
/// processor, with its family, model number and stepping (the microarchitecture: a virtual machine's model name may be
/// only "AMD EPYC" for Zen 4 and Zen 5 alike).</summary>
public sealed record CpuIdentity(string Vendor, string Model, IReadOnlySet<string> Flags)
{
    /// <summary>"family F model M stepping S" from /proc/cpuinfo, or "" where it does not say.</summary>
    public string Microarchitecture { get; init; } = "";

    private static readonly Lazy<CpuIdentity> OfThisMachine = new(ReadProcCpuinfo);

    /// <summary>Read once per process: the processor does not change under a running process.</summary>
    public static CpuIdentity Read() => OfThisMachine.Value;

    private static CpuIdentity ReadProcCpuinfo()
    {
        string? vendor = null, model = null, flags = null, family = null, number = null, stepping = null;
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':');
                    if (colon < 0) continue;
                    string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                    if (vendor is null && key == "vendor_id") vendor = value;
                    else if (model is null && key == "model name") model = value;
                    else if (flags is null && key == "flags") flags = value;
                    else if (family is null && key == "cpu family") family = value;
                    else if (number is null && key == "model") number = value;
                    else if (stepping is null && key == "stepping") stepping = value;
                    if (line.Length == 0 && vendor is not null) break;
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new CpuIdentity(vendor ?? "unknown", model ?? RuntimeInformation.ProcessArchitecture.ToString(),
            (flags ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet())
        { Microarchitecture = family is null ? "" : $"family {family} model {number ?? "?"} stepping {stepping ?? "?"}" };
    }
}
