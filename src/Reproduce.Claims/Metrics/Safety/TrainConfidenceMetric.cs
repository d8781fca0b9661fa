using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// train_confidence: mean top-label probability on the training subset (evaluation mode). Cross-entropy curvature
/// scales with diag(p) - p p^T, which vanishes as this approaches 1, so a less confident model reads as sharper
/// (issue 14's confound).
/// </summary>
public sealed class TrainConfidenceMetric : RunMetric
{
    public override string Name => "train_confidence";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => "mean top-label probability on the training subset (evaluation mode): the confound of cross-entropy curvature";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var p = run.TrainPredictions.Probabilities.to(ScalarType.Float64);
        return new(p.max(1).values.mean().item<double>(), Details(new { samples = run.TrainPredictions.Count, mode = "eval" }));
    }
}
