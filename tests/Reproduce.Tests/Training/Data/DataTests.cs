using System.IO.Compression;
using NUnit.Framework;
using Reproduce.Training.Data;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Data;

[TestFixture, Category("Unit")]
public class DataTests
{
    private string _folder = null!;

    [SetUp] public void MakeFolder() { _folder = Path.Combine(Path.GetTempPath(), "reproduce-tests-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_folder); }
    [TearDown] public void RemoveFolder() => Directory.Delete(_folder, true);

    private static void WriteIdx(string path, byte[] header, byte[] data)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(header);
        gz.Write(data);
    }

    private static byte[] Header(params int[] shape)
    {
        var h = new List<byte> { 0, 0, 0x08, (byte)shape.Length };
        foreach (int s in shape) h.AddRange(new[] { (byte)(s >> 24), (byte)(s >> 16), (byte)(s >> 8), (byte)s });
        return h.ToArray();
    }

    [Test]
    public void FashionMnistLoaderReadsAGeneratedFixture()
    {
        using var scope = NewDisposeScope();
        var pixels = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)(i % 256)).ToArray();
        WriteIdx(Path.Combine(_folder, "t10k-images-idx3-ubyte.gz"), Header(3, 28, 28), pixels);
        WriteIdx(Path.Combine(_folder, "t10k-labels-idx1-ubyte.gz"), Header(3), new byte[] { 9, 0, 4 });
        using var data = FashionMnist.Load(train: false, folder: _folder);
        Assert.That(data.Inputs.shape, Is.EqualTo(new long[] { 3, 784 }));
        Assert.That(data.Targets.data<long>().ToArray(), Is.EqualTo(new long[] { 9, 0, 4 }));
        double expected = (pixels[5] / 255.0 - FashionMnist.Mean) / FashionMnist.Std;
        Assert.That(data.Inputs[0, 5].item<float>(), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void MissingFilesNameThePathAndTheInstallCommand()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(train: true, folder: _folder));
        Assert.That(ex!.Message, Does.Contain(_folder).And.Contain("apt-get install dataset-fashion-mnist"));
    }

    [Test]
    public void CorruptIdxFilesAreNamed()
    {
        var bad = Path.Combine(_folder, "bad.gz");
        WriteIdx(bad, new byte[] { 1, 2, 8, 1, 0, 0, 0, 1 }, new byte[] { 0 });
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.Read(bad, 1))!.Message, Does.Contain(bad).And.Contain("magic"));
        WriteIdx(bad, Header(5), new byte[] { 1, 2 });
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.Read(bad, 1))!.Message, Does.Contain("promises 5 bytes"));
        File.WriteAllBytes(bad, new byte[] { 1, 2, 3, 4, 5 });
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.Read(bad, 1))!.Message, Does.Contain(bad));
    }

    [Test]
    public void CirclesFollowMakeCircles()
    {
        using var scope = NewDisposeScope();
        using var data = Circles.Make(100, 0.6, 0, seed: 3);
        var radius = data.Inputs.norm(1).data<float>().ToArray();
        var labels = data.Targets.data<long>().ToArray();
        Assert.That(labels.Count(l => l == 0), Is.EqualTo(50));
        for (int i = 0; i < 100; i++) Assert.That(radius[i], Is.EqualTo(labels[i] == 0 ? 1.0 : 0.6).Within(1e-6));
        using var again = Circles.Make(100, 0.6, 0, seed: 3);
        Assert.That(again.Inputs.eq(data.Inputs).all().item<bool>(), Is.True);
    }

    [TestCase("sphere", 0, 0)]
    [TestCase("booth", 1, 3)]
    [TestCase("three-hump-camel", 0, 0)]
    [TestCase("himmelblau", 3, 2)]
    [TestCase("rosenbrock", 1, 1)]
    [TestCase("beale", 3, 0.5)]
    [TestCase("rastrigin", 0, 0)]
    public void TwoDimensionalTargetsVanishAtTheirKnownMinimum(string name, double x, double y)
    {
        Assert.That(Functions2D.Targets[name](x, y), Is.EqualTo(0).Within(1e-12));
        Assert.That(Functions2D.Targets[name](x + 0.3, y - 0.2), Is.GreaterThan(0));
    }

    [Test]
    public void TwoDimensionalSamplesAreUniformOnTheSquare()
    {
        using var scope = NewDisposeScope();
        using var data = Functions2D.Sample("sphere", 10_000, seed: 1);
        Assert.That(data.Inputs.abs().max().item<float>(), Is.LessThanOrEqualTo(3.5f));
        Assert.That(data.Inputs.mean().item<float>(), Is.EqualTo(0).Within(0.05));
        Assert.Throws<ArgumentException>(() => Functions2D.Sample("ackley", 10, 1));
    }

    [Test]
    public void RandomLabelsChangeTheRequestedShare()
    {
        using var scope = NewDisposeScope();
        using var clean = new Dataset(zeros(10_000, 2), zeros(10_000, dtype: ScalarType.Int64), "zeros");
        using var noisy = RandomLabels.Apply(clean, 0.5, 10, seed: 2);
        double changed = noisy.Targets.ne(0).to(ScalarType.Float64).mean().item<double>();
        Assert.That(changed, Is.EqualTo(0.5 * 0.9).Within(0.02), "Half relabelled, of which 9/10 land on another class.");
    }
}
