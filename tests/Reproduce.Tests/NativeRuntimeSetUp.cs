using NUnit.Framework;
using Reproduce.Runtime.Native;

/// <summary>
/// Assembly-wide set-up (a SetUpFixture outside any namespace): MKL's dispatch is decided on its first call, so the
/// override must be in place before any test runs a tensor operation, exactly as the CLI does first thing in Main; the
/// heap settings (malloc's thresholds, no effect on any number) likewise, and the zeroing of new CPU tensors
/// around curvature products (libtorch's kernels read stale bytes without it on a family-26 EPYC).
/// </summary>
[SetUpFixture]
public sealed class NativeRuntimeSetUp
{
    [OneTimeSetUp]
    public void ApplyMklDispatch()
    {
        TestContext.Progress.WriteLine($"MKL dispatch: {MklDispatch.Apply()}");
        TestContext.Progress.WriteLine($"heap settings: {HeapSettings.Apply()}");
        TestContext.Progress.WriteLine($"allocation zeroing: {AllocationZeroing.Apply()}");
    }
}
