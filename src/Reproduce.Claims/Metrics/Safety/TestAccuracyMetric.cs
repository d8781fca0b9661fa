using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>test_accuracy: the fraction of the test subset classified correctly, model in evaluation mode.</summary>
public sealed class TestAccuracyMetric : RunMetric
{
    public override string Name => "test_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => "accuracy on the test subset (evaluation mode)";

    public override MetricValue Compute(RunMeasurementContext run) =>
        new(ClassificationMetrics.Accuracy(run.TestPredictions), Details(new { samples = run.TestPredictions.Count }));
}
