using System.Runtime.InteropServices;

namespace Reproduce.Measurement.Native;

/// <summary>
/// Every block glibc's malloc hands out is filled with zeros, and every freed block with 0xFF bytes (glibc's
/// <c>M_PERTURB</c> with the byte 0xFF: an allocation is filled with its complement, 0x00), so that no computation can
/// read the previous owner's bytes.
/// <para>
/// Why: on an AMD EPYC of family 26 (Zen 5), a LeNet Hessian-vector product (oneDNN's AVX-512 convolution and
/// deconvolution primitives in the double backward, on blocked layouts whose channels are padded to 16) read memory
/// that nobody had written. In a fresh process that memory is the kernel's zero pages and the product is right; after
/// a few runs it is a freed block of an earlier tensor, and when its stale bytes held an infinity or a NaN the product
/// came out NaN (0 x Inf): 4 or 5 of the 20 runs of <c>i02-aug-hessian-top</c> failed, different ones each time,
/// with one worker and one thread as with two. With this setting the same 20 runs fail none, twice with identical bits,
/// and their values equal those of the runs that had not failed without it: zero is what those runs read, so no
/// stored number changes.
/// </para>
/// The cost is a memset per allocation and per free (libtorch's tensors are malloc'd blocks; the tcache's blocks of at
/// most 1032 bytes are exempt, as glibc exempts them). Applied once per process, before the first tensor, by every
/// entry point (the CLI, the test assemblies). <c>REPRODUCE_ZERO_ALLOCATIONS=off</c> leaves malloc as it is.
/// </summary>
public static class AllocationZeroing
{
    /// <summary>The environment variable that turns zeroing off ("off", "0", "false" or "no").</summary>
    public const string OptOutVariable = "REPRODUCE_ZERO_ALLOCATIONS";

    /// <summary>glibc fills a freed block with this byte and a new one with its complement (0x00).</summary>
    public const int PerturbByte = 0xFF;

    private static readonly Lazy<string> Applied = new(ApplyOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Applies the setting once per process (idempotent) and returns <see cref="State"/>.</summary>
    public static string Apply() => Applied.Value;

    /// <summary>What was done: "glibc: new blocks zero-filled, freed blocks 0xFF", or why not.</summary>
    public static string State => Applied.Value;

    /// <summary>Whether this process's malloc zero-fills every new block.</summary>
    public static bool On => State.StartsWith("glibc:", StringComparison.Ordinal);

    private static string ApplyOnce()
    {
        if (!OperatingSystem.IsLinux()) return "not applicable (not Linux)";
        if (Environment.GetEnvironmentVariable(OptOutVariable) is { } v && v.Trim().ToLowerInvariant() is "off" or "0" or "false" or "no")
            return $"off (opted out: {OptOutVariable}={v.Trim()})";
        try
        {
            if (mallopt(MallocPerturb, PerturbByte) != 1) return "off (mallopt refused M_PERTURB)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "off (the C library has no mallopt: not glibc)";
        }
        return "glibc: new blocks zero-filled, freed blocks 0xFF";
    }

    private const int MallocPerturb = -6;

    [DllImport("libc.so.6")]
    private static extern int mallopt(int parameter, int value);
}
