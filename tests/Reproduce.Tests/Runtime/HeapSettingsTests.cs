using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Native;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Runtime;

/// <summary>
/// The heap settings (applied by the assembly's set-up, as by the CLI) keep libtorch's freed blocks mapped: a LeNet
/// Hessian-vector product on 500 images, repeated on a worker thread (NUnit's), faults in ~150 fresh pages, not the
/// ~25,000 (about 100 MB) of glibc's defaults. Run with REPRODUCE_HEAP_SETTINGS=off this test fails, as it should.
/// </summary>
[TestFixture, Category("Unit")]
public class HeapSettingsTests
{
    [Test]
    public void AppliedOnLinuxWithGlibcAndIdempotent()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("glibc's malloc is Linux's");
        string state = HeapSettings.Apply();
        Assert.That(HeapSettings.Apply(), Is.EqualTo(state));
        Assert.That(state, Is.EqualTo("glibc: mmap threshold 32 MiB, trim threshold 512 MiB, top pad 64 MiB"));
    }

    [Test]
    public void RepeatedHessianVectorProductsReuseTheirPages()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("page-fault counts are read from /proc/self/stat");
        using var scope = NewDisposeScope();
        int threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            var model = ModelSpec.LeNet5().Build(0);
            model.eval();
            var g = new Generator(1);
            using var source = TensorBatchSource.Uniform(randn(new long[] { 500, 1, 28, 28 }, generator: g), randint(0, 10, new long[] { 500 }, generator: g), 250);
            var op = new HessianOperator(new ModelObjective(model, LossKind.CrossEntropy, source));
            var v = randn(op.Dimension, generator: g);
            for (int i = 0; i < 3; i++) { using var warm = NewDisposeScope(); op.Apply(v); }
            long before = MinorFaults();
            for (int i = 0; i < 5; i++) { using var inner = NewDisposeScope(); op.Apply(v); }
            long perProduct = (MinorFaults() - before) / 5;
            TestContext.Progress.WriteLine($"{perProduct} fresh pages per Hessian-vector product");
            Assert.That(perProduct, Is.LessThan(5000), $"{perProduct} fresh pages per Hessian-vector product (heap settings: {HeapSettings.State})");
        }
        finally { torch.set_num_threads(threads); }
    }

    /// <summary>minflt, the 10th field of /proc/self/stat (after the parenthesised command name).</summary>
    private static long MinorFaults() => long.Parse(File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[7]);
}
