using Reproduce.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Cli.Bench;

/// <summary>
/// The benchmarks' real inputs: the first Fashion-MNIST training images, read (and decompressed) once per process
/// and shared by every benchmark; null when the data set is not installed.
/// </summary>
internal static class BenchImages
{
    public const int Max = 5000;

    private static readonly Lazy<(Tensor X, Tensor Y)?> first = new(() =>
    {
        if (!File.Exists(Path.Combine(FashionMnist.DefaultFolder, "train-images-idx3-ubyte.gz"))) return null;
        using var train = FashionMnist.Load(true, flatten: false);
        return (train.Inputs.narrow(0, 0, Max).clone().DetachFromDisposeScope(), train.Targets.narrow(0, 0, Max).clone().DetachFromDisposeScope());
    });

    /// <summary>The first <paramref name="count"/> images, (N, 1, 28, 28) standardised, with their labels; fresh copies.</summary>
    public static (Tensor X, Tensor Y)? First(int count)
    {
        if (count > Max) throw new ArgumentOutOfRangeException(nameof(count), count, $"The benchmarks keep the first {Max} images.");
        return first.Value is { } images ? (images.X.narrow(0, 0, count).clone(), images.Y.narrow(0, 0, count).clone()) : null;
    }
}
