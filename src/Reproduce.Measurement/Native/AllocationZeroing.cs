namespace Reproduce.Measurement.Native;

/// <summary>
/// While a curvature product runs (a Hessian- or Gauss-Newton-vector product: <see cref="During"/>), every block glibc's
/// malloc hands out is filled with zeros, and every freed block with 0xFF bytes (glibc's <c>M_PERTURB</c> with the byte
/// 0xFF: an allocation is filled with its complement, 0x00), so that the product cannot read an earlier tensor's bytes.
/// <para>
/// Why: on an AMD EPYC of family 26 (Zen 5), a LeNet Hessian-vector product (oneDNN's AVX-512 convolution and
/// deconvolution primitives in the double backward, on blocked layouts whose channels are padded to 16) read memory
/// that nobody had written. In a fresh process that memory is the kernel's zero pages and the product is right; after
/// a few runs it is a freed block of an earlier tensor, and when its stale bytes held an infinity or a NaN the product
/// came out NaN (0 x Inf): 4 or 5 of the 20 runs of <c>i02-aug-hessian-top</c> failed, different ones each time,
/// with one worker and one thread as with two. Zero-filling every allocation of the process (glibc's
/// <c>MALLOC_PERTURB_=255</c>) made all 20 succeed, twice with identical bits, equal to the runs that had not failed
/// without it (zero is what those runs read, so no stored number changes), and the whole default profile ran with no
/// failure and every verdict as reviewed; but it cost 24 % of the LeNet's training time (a memset per allocation and
/// per free), which training does not need (its weights were bit-identical with and without, and across machines).
/// So the zeroing is switched on only while a curvature product runs on some thread (counted, so overlapping products
/// on two workers keep it on until the last ends); another worker's training pays for it only then.
/// </para>
/// The tcache's blocks of at most 1032 bytes are exempt, as glibc exempts them. <see cref="Apply"/> is called once per
/// process, before the first tensor, by every entry point (the CLI, the test assemblies);
/// <c>REPRODUCE_ZERO_ALLOCATIONS=off</c> turns the zeroing off.
/// </summary>
public static class AllocationZeroing
{
    /// <summary>The environment variable that turns zeroing off ("off", "0", "false" or "no").</summary>
    public const string OptOutVariable = "REPRODUCE_ZERO_ALLOCATIONS";

    /// <summary>glibc fills a freed block with this byte and a new one with its complement (0x00); 0 turns it off.</summary>
    public const int PerturbByte = 0xFF;

    private static readonly Lazy<string> Applied = new(ApplyOnce, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly object Gate = new();
    private static int active;

    /// <summary>Decides once per process (idempotent) whether the zeroing is available and wanted; returns <see cref="State"/>.</summary>
    public static string Apply() => Applied.Value;

    /// <summary>"glibc: new blocks zero-filled during curvature products", or why not.</summary>
    public static string State => Applied.Value;

    /// <summary>Whether <see cref="During"/> zero-fills in this process.</summary>
    public static bool On => State.StartsWith("glibc:", StringComparison.Ordinal);

    /// <summary>Zero-fills every malloc block handed out until the returned section (and every other open one) is
    /// disposed. Sections nest and overlap across threads.</summary>
    public static Section During()
    {
        if (!On) return default;
        lock (Gate) { if (active++ == 0) Glibc.Mallopt(Glibc.MallocPerturb, PerturbByte); }
        return new Section(entered: true);
    }

    /// <summary>An open zeroing section (<see cref="During"/>).</summary>
    public readonly struct Section(bool entered) : IDisposable
    {
        public void Dispose()
        {
            if (!entered) return;
            lock (Gate) { if (--active == 0) Glibc.Mallopt(Glibc.MallocPerturb, 0); }
        }
    }

    private static string ApplyOnce()
    {
        if (!OperatingSystem.IsLinux()) return "not applicable (not Linux)";
        if (OptOut.Requested(OptOutVariable, out string optOut))
            return $"off (opted out: {OptOutVariable}={optOut})";
        try
        {
            // Probe that this C library takes M_PERTURB (glibc returns 1), leaving it off until a section opens.
            if (Glibc.Mallopt(Glibc.MallocPerturb, 0) != 1) return "off (mallopt refused M_PERTURB)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "off (the C library has no mallopt: not glibc)";
        }
        return "glibc: new blocks zero-filled during curvature products";
    }
}
