using NUnit.Framework;
using Reproduce.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Data;

[TestFixture, Category("Unit")]
public class CropAndFlipTests
{
    [Test]
    public void EachOutputIsAPaddedCropOrItsMirror()
    {
        // Oracle written with plain arrays: every output image must equal one of the 2 (2p+1)^2 candidates.
        using var scope = NewDisposeScope();
        const int p = 2, h = 5, w = 6;
        var x = randn(new long[] { 8, 1, h, w }, generator: new Generator(3));
        var y = new CropAndFlip(p).Apply(x, new Generator(7));
        Assert.That(y.shape, Is.EqualTo(x.shape));
        for (int i = 0; i < 8; i++)
        {
            var src = x[i, 0].data<float>().ToArray();
            var outImg = y[i, 0].data<float>().ToArray();
            bool found = false;
            for (int dy = 0; dy <= 2 * p && !found; dy++)
                for (int dx = 0; dx <= 2 * p && !found; dx++)
                    foreach (bool flip in new[] { false, true })
                    {
                        bool same = true;
                        for (int r = 0; r < h && same; r++)
                            for (int c = 0; c < w && same; c++)
                            {
                                int cc = flip ? w - 1 - c : c;
                                int sr = r + dy - p, sc = cc + dx - p;
                                float expected = sr >= 0 && sr < h && sc >= 0 && sc < w ? src[sr * w + sc] : 0f;
                                same = outImg[r * w + c] == expected;
                            }
                        if (same) { found = true; break; }
                    }
            Assert.That(found, Is.True, $"image {i} is no padded crop of its input");
        }
    }

    [Test]
    public void SeededAndNotConstant()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 16, 3, 8, 8 }, generator: new Generator(1));
        var aug = new CropAndFlip();
        var a = aug.Apply(x, new Generator(5));
        var b = aug.Apply(x, new Generator(5));
        var c = aug.Apply(x, new Generator(6));
        Assert.That(a.eq(b).all().item<bool>(), Is.True);
        Assert.That(a.eq(c).all().item<bool>(), Is.False);
        Assert.That(a.eq(x).all().item<bool>(), Is.False);
        Assert.That(new CropAndFlip(0, flip: false).Apply(x, new Generator(5)).eq(x).all().item<bool>(), Is.True);
    }

    [Test]
    public void RefusesFlatInputs()
    {
        using var scope = NewDisposeScope();
        Assert.That(() => new CropAndFlip().Apply(zeros(4, 784), new Generator(1)), Throws.ArgumentException.With.Message.Contains("(N, C, H, W)"));
    }
}

[TestFixture, Category("Unit")]
public class Cifar10Tests
{
    private string folder = "";

    [SetUp]
    public void MakeFixture()
    {
        // A generated folder in the exact binary format: 1 label byte + 3072 pixel bytes per record.
        folder = Path.Combine(Path.GetTempPath(), $"cifar-fixture-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        foreach (var (name, i) in Cifar10.TrainFiles.Concat(Cifar10.TestFiles).Select((n, i) => (n, i)))
        {
            var bytes = new byte[2 * Cifar10.RecordBytes];
            for (int r = 0; r < 2; r++)
            {
                int o = r * Cifar10.RecordBytes;
                bytes[o] = (byte)((i + r) % 10);
                for (int k = 1; k < Cifar10.RecordBytes; k++) bytes[o + k] = (byte)((k + i * 7 + r) % 256);
            }
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
    }

    [TearDown]
    public void Clean() => Directory.Delete(folder, recursive: true);

    [Test]
    public void ReadsLabelsAndChannelPlanes()
    {
        using var scope = NewDisposeScope();
        using var train = Cifar10.Load(true, folder);
        using var test = Cifar10.Load(false, folder);
        Assert.That(train.Inputs.shape, Is.EqualTo(new long[] { 10, 3, 32, 32 }));
        Assert.That(test.Count, Is.EqualTo(2));
        Assert.That(train.Targets.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 1, 2, 2, 3, 3, 4, 4, 5 }));
        // Record 0 of file 0: pixel byte k (1-based) = k % 256; channel 1 (green), row 0, col 0 is byte 1025.
        double expected = (1025 % 256 / 255.0 - Cifar10.Mean[1]) / Cifar10.Std[1];
        Assert.That(train.Inputs[0, 1, 0, 0].to(ScalarType.Float64).item<double>(), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void TruncatedFileAndMissingFolderNameThePath()
    {
        var path = Path.Combine(folder, "data_batch_3.bin");
        File.WriteAllBytes(path, new byte[Cifar10.RecordBytes + 5]);
        Assert.That(() => Cifar10.Load(true, folder), Throws.TypeOf<InvalidDataException>().With.Message.Contains("data_batch_3.bin").And.Message.Contains("whole number"));
        Assert.That(() => Cifar10.Load(true, "/nonexistent/cifar"), Throws.TypeOf<DirectoryNotFoundException>().With.Message.Contains("/nonexistent/cifar"));
    }
}
