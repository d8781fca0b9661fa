using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>train_accuracy: the fraction of the training subset classified correctly, model in evaluation mode
/// (not the running accuracy of the last epoch, which mixes weights and BatchNorm's batch statistics).</summary>
public sealed class TrainAccuracyMetric : RunMetric
{
    public override string Name => "train_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => "accuracy on the training subset (evaluation mode)";

    public override MetricValue Compute(RunMeasurementContext run) =>
        new(ClassificationMetrics.Accuracy(run.TrainPredictions), Details(new { samples = run.TrainPredictions.Count, mode = "eval" }));
}
