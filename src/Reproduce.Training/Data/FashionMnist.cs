using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017; MIT) from Debian's <c>dataset-fashion-mnist</c>: gzipped IDX files, 60,000
/// training and 10,000 test images of 28x28, ten classes. Images become float32 in [0, 1], then standardised with
/// the training set's mean 0.2860 and std 0.3530 (flattened to 784 for MLPs, or kept 1x28x28 for CNNs).
/// </summary>
public static class FashionMnist
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const string InstallHint = "install it with: apt-get install dataset-fashion-mnist";
    public const double Mean = 0.2860, Std = 0.3530;

    public static Dataset Load(bool train, string folder = DefaultFolder, bool flatten = true)
    {
        string prefix = train ? "train" : "t10k";
        string images = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz");
        string labels = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        foreach (var path in new[] { images, labels })
            if (!File.Exists(path))
                throw new FileNotFoundException($"Fashion-MNIST file missing: {path}. {InstallHint} (or set the data folder).", path);
        var img = IdxFile.Read(images, 3);
        var lab = IdxFile.Read(labels, 1);
        int n = img.Shape[0];
        if (img.Shape[1] != 28 || img.Shape[2] != 28) throw new InvalidDataException($"{images}: images are {img.Shape[1]}x{img.Shape[2]}, expected 28x28.");
        if (lab.Shape[0] != n) throw new InvalidDataException($"{labels}: {lab.Shape[0]} labels for {n} images in {images}.");
        if (lab.Data.Any(b => b > 9)) throw new InvalidDataException($"{labels}: a label lies outside 0..9.");
        using var scope = NewDisposeScope();
        var x = tensor(img.Data, new long[] { n, 1, 28, 28 }).to(ScalarType.Float32).div_(255.0).sub_(Mean).div_(Std);
        if (flatten) x = x.reshape(n, 784);
        var y = tensor(lab.Data, new long[] { n }).to(ScalarType.Int64);
        return new Dataset(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), train ? "fashion-mnist/train" : "fashion-mnist/test");
    }
}
