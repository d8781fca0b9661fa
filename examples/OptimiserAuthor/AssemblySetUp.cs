using NUnit.Framework;
using Reproduce.Runtime.Native;

/// <summary>
/// Assembly-wide set-up (a SetUpFixture outside any namespace runs before every test of the assembly): MKL's dispatch
/// is decided on its first call, so its override goes first, as in the suite's own test assembly and CLI, with the
/// zeroing of new CPU tensors around curvature products (libtorch's kernels read stale bytes without it on one CPU:
/// AllocationZeroing); then Lion is registered, before any test loads a claim or a setting that names it.
/// </summary>
[SetUpFixture]
public sealed class AssemblySetUp
{
    [OneTimeSetUp]
    public void SetUp()
    {
        TestContext.Progress.WriteLine($"MKL dispatch: {MklDispatch.Apply()}");
        TestContext.Progress.WriteLine($"allocation zeroing: {AllocationZeroing.Apply()}");
        OptimiserAuthor.LionRegistration.Register();
    }
}
