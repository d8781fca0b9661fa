using System.Runtime.InteropServices;

namespace Reproduce.Runtime.Native;

/// <summary>
/// New CPU tensors start as zeros while a curvature product runs (a Hessian- or Gauss-Newton-vector product:
/// <see cref="During"/>), or for the whole process on request, through libtorch's own switch for it: c10's
/// <c>FLAGS_caffe2_cpu_allocator_do_zero_fill</c>, which <c>c10::alloc_cpu</c> reads on every allocation and then
/// memsets the new block. No kernel inside such a section can read an earlier tensor's bytes.
/// <para>
/// Why: on an AMD EPYC of family 26 (Zen 5), libtorch 2.10's CPU kernels read tensor memory that nobody had written:
/// a LeNet Hessian-vector product (oneDNN's convolution primitives in the double backward), and the training of a
/// LeNet with 2 and 4 channels. In a fresh process that memory is the kernel's zero pages and the result is right;
/// after a few runs it is a freed block of an earlier tensor, and where its stale bytes held an infinity or a NaN the
/// result came out NaN, in different runs each time: 5 of the 20 runs of <c>i02-aug-hessian-top</c> without zeroing,
/// 8 of 9 trainings of the narrow LeNet. Zeroed, none failed (40 of 40 runs; their 120 metrics bit-identical to the
/// runs that had not failed, since zero is what those read; 9 of 9 trainings finite).
/// </para>
/// <para>
/// Why c10's switch: glibc's <c>M_PERTURB</c> (the first fix) zero-fills every malloc, the runtime's too, fills every
/// freed block with 0xFF bytes (a NaN to a float), which the process then hands out unzeroed after the section, and
/// skips the tcache's small blocks. c10's switch touches only tensor memory, of any size, and never fills freed blocks.
/// Why only during curvature products by default: zeroing every tensor of the process cost 4 % of the default
/// profile's time (818 s against 788 s the same day; training +3 %, the 1000-image evaluations of the corruption suite
/// +14 %) and changed none of its 7,253 numbers; the suite's models read nothing stale in training.
/// <c>REPRODUCE_ZERO_ALLOCATIONS=always</c> zero-fills for the whole process (for models like the narrow LeNet);
/// <c>off</c> turns zeroing off. The state is part of every result's provenance. <see cref="Apply"/> is called once
/// per process, before the first tensor, by every entry point (the CLI, the test assemblies).
/// </para>
/// </summary>
public static class AllocationZeroing
{
    /// <summary>The environment variable that chooses the scope: unset or "curvature" (the default), "always", or
    /// "off" ("0", "false", "no").</summary>
    public const string Variable = "REPRODUCE_ZERO_ALLOCATIONS";

    private const string ZeroFillFlag = "FLAGS_caffe2_cpu_allocator_do_zero_fill", JunkFillFlag = "FLAGS_caffe2_cpu_allocator_do_junk_fill";
    private const string DuringCurvature = "c10: new CPU tensors zero-filled during curvature products";
    private const string Always = "c10: every CPU tensor allocation zero-filled";
    private const string Invalid = "off (invalid: ";

    private static readonly Lazy<string> Applied = new(ApplyOnce, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly object Gate = new();
    private static IntPtr flag;
    private static int active;

    /// <summary>Decides once per process (idempotent) and returns <see cref="State"/>.</summary>
    public static string Apply() => Applied.Value;

    /// <summary>"c10: new CPU tensors zero-filled during curvature products", "c10: every CPU tensor allocation
    /// zero-filled", or "off (why)".</summary>
    public static string State => Applied.Value;

    /// <summary>What is wrong with the environment variable's value when it names no scope (zeroing is then off), or
    /// null; entry points refuse to run with it.</summary>
    public static string? InvalidSetting => State.StartsWith(Invalid, StringComparison.Ordinal) ? State[Invalid.Length..^1] : null;

    /// <summary>Whether new tensors are zero-filled inside <see cref="During"/> (always so when the whole process is).</summary>
    public static bool On => State is DuringCurvature or Always;

    /// <summary>Zero-fills every new CPU tensor until the returned section (and every other open one) is disposed.
    /// Sections nest and overlap across threads (counted: the switch is process-wide).</summary>
    public static Section During()
    {
        if (State != DuringCurvature) return default;
        lock (Gate) { if (active++ == 0) Marshal.WriteByte(flag, 1); }
        return new Section(entered: true);
    }

    /// <summary>An open zeroing section (<see cref="During"/>).</summary>
    public readonly struct Section(bool entered) : IDisposable
    {
        public void Dispose()
        {
            if (!entered) return;
            lock (Gate) { if (--active == 0) Marshal.WriteByte(flag, 0); }
        }
    }

    private static string ApplyOnce()
    {
        if (OptOut.Requested(Variable, out string value)) return $"off (opted out: {Variable}={value})";
        string mode = value.ToLowerInvariant();
        if (mode is not ("" or "curvature" or "always"))
            return $"{Invalid}{Variable}='{mode}' is not one of curvature, always, off)";
        if (!OperatingSystem.IsLinux()) return "off (not Linux: libc10's flags are looked up with dlsym)";
        IntPtr zero, junk;
        string why;
        try
        {
            zero = LoadedLibrary.Symbol("libc10.so", ZeroFillFlag, out why);
            junk = zero == IntPtr.Zero ? IntPtr.Zero : LoadedLibrary.Symbol("libc10.so", JunkFillFlag, out why);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return "off (no libdl)"; }
        if (junk == IntPtr.Zero) return $"off ({why})";
        // c10 aborts the process when both fills are requested; the junk fill is a debugging aid nobody here sets.
        if (Marshal.ReadByte(junk) != 0) return "off (c10's junk fill is on)";
        flag = zero;
        if (mode == "always")
        {
            Marshal.WriteByte(flag, 1);
            return Always;
        }
        Marshal.WriteByte(flag, 0);
        return DuringCurvature;
    }
}
