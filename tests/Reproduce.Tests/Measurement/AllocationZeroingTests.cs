using System.Runtime.InteropServices;
using NUnit.Framework;
using Reproduce.Measurement.Native;

namespace Reproduce.Tests.Measurement;

/// <summary>
/// The zeroing of new malloc blocks while a curvature product runs (AllocationZeroing.During): inside a section a block
/// that reuses a freed one must not show the freed one's bytes. Without it glibc hands the same 64 KiB block back with
/// its old contents, which is how a LeNet Hessian-vector product read stale infinities. With the section made a no-op
/// (shown once) the section tests fail: "attempt 0: 63865 of 65536 bytes of a new block are not zero (reused the freed
/// block: False)"; with the whole-process zeroing of the first version and the perturb byte 0, "65536 of 65536 ...
/// (reused the freed block: True)". Outside every section malloc is left as it is (the zeroing costs a memset per
/// allocation and per free, which training does not pay).
/// </summary>
[TestFixture, Category("Unit")]
[NonParallelizable]
public class AllocationZeroingTests
{
    // 64 KiB: served from the thread's heap (above the tcache's 1032 bytes, below the 32 MiB mmap threshold).
    private const int Size = 64 << 10;

    /// <summary>Allocates a block, fills it with 0x7F, frees it, allocates the same size again and counts the bytes
    /// of the new block that are not zero; also says whether malloc handed the freed block back.</summary>
    private static (int Stale, bool Reused) StaleBytesOfAReusedBlock()
    {
        IntPtr first = Marshal.AllocHGlobal(Size);
        Marshal.Copy(Enumerable.Repeat((byte)0x7F, Size).ToArray(), 0, first, Size);
        Marshal.FreeHGlobal(first);
        IntPtr second = Marshal.AllocHGlobal(Size);
        var bytes = new byte[Size];
        Marshal.Copy(second, bytes, 0, Size);
        Marshal.FreeHGlobal(second);
        return (bytes.Count(b => b != 0), second == first);
    }

    [Test]
    public void AppliedOnLinuxWithGlibcAndIdempotent()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("glibc's malloc is Linux's");
        string state = AllocationZeroing.Apply();
        Assert.That(AllocationZeroing.Apply(), Is.EqualTo(state));
        Assert.That(state, Is.EqualTo("glibc: new blocks zero-filled during curvature products"));
        Assert.That(AllocationZeroing.On, Is.True);
    }

    [Test]
    public void InsideASectionABlockThatReusesAFreedOneHoldsOnlyZeros()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("glibc's malloc is Linux's");
        int reused = 0;
        using (AllocationZeroing.During())
            for (int attempt = 0; attempt < 16; attempt++)
            {
                var (stale, wasReused) = StaleBytesOfAReusedBlock();
                if (wasReused) reused++;
                Assert.That(stale, Is.Zero, $"attempt {attempt}: {stale} of {Size} bytes of a new block are not zero (reused the freed block: {wasReused})");
            }
        // The check means something only if malloc did hand freed blocks back.
        Assert.That(reused, Is.GreaterThan(0), "malloc never reused the freed block, so the test saw no stale bytes to hide");
    }

    [Test]
    public void NestedSectionsZeroUntilTheOutermostEndsAndNotAfter()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("glibc's malloc is Linux's");
        using (AllocationZeroing.During())
        {
            using (AllocationZeroing.During()) Assert.That(StaleBytesOfAReusedBlock().Stale, Is.Zero, "inside both sections");
            Assert.That(StaleBytesOfAReusedBlock().Stale, Is.Zero, "the inner section ended, the outer one is open");
        }
        var after = StaleBytesOfAReusedBlock();
        if (!after.Reused) Assert.Inconclusive("malloc did not hand the freed block back after the sections");
        Assert.That(after.Stale, Is.GreaterThan(0), "after every section ended, malloc still zero-fills: the zeroing leaked past its sections");
    }
}
