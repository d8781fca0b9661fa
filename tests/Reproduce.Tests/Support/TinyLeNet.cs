using Reproduce.Training;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Training.Regimes;
using static TorchSharp.torch;

namespace Reproduce.Tests.Support;

/// <summary>A LeNet on 24 random 12 x 12 images of 3 classes, trained 2 epochs of Aug+SAM: the smallest training that
/// runs every CNN kernel of the suite (convolutions, pools, crop-and-flip, SAM's second pass) in well under a second.</summary>
public static class TinyLeNet
{
    /// <summary>The images (seeded), in the caller's dispose scope.</summary>
    public static Dataset Images() => new(
        randn(new long[] { 24, 1, 12, 12 }, generator: new Generator(1)),
        randint(0, 3, new long[] { 24 }, generator: new Generator(2)), "tiny images");

    /// <summary>A LeNet on those images with the given two channel widths.</summary>
    public static ModelSpec Spec(int channels0, int channels1) =>
        new() { Kind = "lenet", InputShape = [1, 12, 12], Classes = 3, Channels = [channels0, channels1], Widths = [8, 6] };

    /// <summary>Two epochs of Aug+SAM, batches of 8, seed 3.</summary>
    public static TrainerOptions AugSam() =>
        new TrainerOptions { Epochs = 2, BatchSize = 8, LearningRate = 0.05, Momentum = 0.9, Seed = 3 }.With(RegimeRegistry.Get("Aug+SAM"));
}
