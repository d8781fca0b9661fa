namespace Reproduce.Runtime.Native;

/// <summary>
/// glibc malloc's thresholds for the tensors libtorch allocates (every CPU tensor is a malloc'd block). By default
/// malloc serves blocks above 128 KiB (raised dynamically, at most to 32 MiB) with a fresh mmap and returns them to
/// the kernel on free, gives the top of a heap back once twice that threshold lies free there, and unmaps a
/// thread's 64 MiB heap as soon as it is empty. A LeNet Hessian-vector product on 500 images allocates and frees
/// about 100 MB of activations and their derivatives, so on a worker thread every product faulted in ~25,000 fresh
/// zeroed pages (HeapSettingsTests; in a profile of Hessian-vector products the kernel's page handling was a fifth of
/// the time). Here blocks up to 32 MiB come from the heaps, up to 512 MiB of free heap is kept, and every heap keeps
/// a 64 MiB pad (so a thread's heap is neither shrunk nor unmapped when it empties): the pages stay mapped, and a
/// product faults in ~150. Resident memory grows to the working set's peak once and then stays flat.
/// Which addresses hold a tensor changes no arithmetic: results are bit-identical with and without (the smoke store
/// compares with 0 differences). Applied once per process, before the first tensor, by every entry point (the CLI,
/// the test assembly); <c>REPRODUCE_HEAP_SETTINGS=off</c> leaves malloc as configured by the environment.
/// </summary>
public static class HeapSettings
{
    /// <summary>The environment variable that turns the settings off ("off", "0", "false" or "no").</summary>
    public const string OptOutVariable = "REPRODUCE_HEAP_SETTINGS";

    /// <summary>Blocks up to this size come from malloc's heaps (glibc's largest allowed threshold on 64-bit).</summary>
    public const int MmapThreshold = 32 << 20;

    /// <summary>Free memory at the top of a heap kept for reuse before any is returned to the kernel.</summary>
    public const int TrimThreshold = 512 << 20;

    /// <summary>Extra memory kept at the top of every heap (and reserved when one grows): 64 MiB, a thread heap's size.</summary>
    public const int TopPad = 64 << 20;

    private static readonly Lazy<string> Applied = new(ApplyOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Applies the settings once per process (idempotent) and returns <see cref="State"/>.</summary>
    public static string Apply() => Applied.Value;

    /// <summary>What was done, e.g. "glibc: mmap threshold 32 MiB, trim threshold 512 MiB, top pad 64 MiB".</summary>
    public static string State => Applied.Value;

    private static string ApplyOnce()
    {
        if (!OperatingSystem.IsLinux()) return "not applicable (not Linux)";
        if (OptOut.Requested(OptOutVariable, out string optOut))
            return $"default (opted out: {OptOutVariable}={optOut})";
        try
        {
            // Setting the mmap threshold turns off its dynamic adjustment, which would otherwise also reset the trim
            // threshold; so both are set, mmap first. mallopt returns 1 on success.
            if (Glibc.Mallopt(Glibc.MallocMmapThreshold, MmapThreshold) != 1) return "default (mallopt refused the mmap threshold)";
            if (Glibc.Mallopt(Glibc.MallocTrimThreshold, TrimThreshold) != 1) return "default (mallopt refused the trim threshold)";
            if (Glibc.Mallopt(Glibc.MallocTopPad, TopPad) != 1) return "default (mallopt refused the top pad)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "default (the C library has no mallopt: not glibc)";
        }
        return $"glibc: mmap threshold {MmapThreshold >> 20} MiB, trim threshold {TrimThreshold >> 20} MiB, top pad {TopPad >> 20} MiB";
    }
}
