using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Sharpness;
using Reproduce.Training.Data;
using TorchSharp;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// relative_flatness_paper: relative flatness as the paper's code computes it: kappa per batch of the measure subset,
/// summed over the batches (so it grows with the number of batches), and a model trained with augmentation measured
/// on augmented data (one crop-and-flip of the measure subset, drawn with seed + <see cref="AugmentationSeedOffset"/>).
/// </summary>
public sealed class PaperRelativeFlatnessMetric : RunMetric
{
    [MetricParameter("samples per batch; kappa is summed over the batches")]
    public int BatchSize { get; init; } = 128;

    [MetricParameter("added to the run's seed for the crop-and-flip draw of augmented regimes")]
    public int AugmentationSeedOffset { get; init; } = 7919;

    public override string Name => "relative_flatness_paper";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"relative flatness as the paper's code: summed over batches of {BatchSize}, augmented data for augmented regimes (crop-and-flip seeded seed + {AugmentationSeedOffset})";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var inputs = run.Data.Train.Inputs.narrow(0, 0, run.SettingProfile.MeasureSize);
        bool augmented = run.Regime.Augment;
        if (augmented) inputs = new CropAndFlip().Apply(inputs, new torch.Generator((ulong)(run.Seed + AugmentationSeedOffset)));
        using var source = TensorBatchSource.Uniform(inputs, run.Data.Train.Targets.narrow(0, 0, run.SettingProfile.MeasureSize), BatchSize);
        var r = new RelativeFlatness { Reduction = BatchReduction.SumOverBatches }.Compute(run.FeatureModel(), source);
        return new(r.Value, Details(new { r.FeatureNormalised, reduction = r.Reduction.ToString(), augmentedData = augmented, r.Batches, r.Samples }));
    }
}
