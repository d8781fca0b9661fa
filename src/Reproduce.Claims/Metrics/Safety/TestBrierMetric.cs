using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>test_brier: mean squared distance between the predicted distribution and the one-hot label, test subset.</summary>
public sealed class TestBrierMetric : RunMetric
{
    public override string Name => "test_brier";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "Brier score on the test subset";

    public override MetricValue Compute(RunMeasurementContext run) => new(ClassificationMetrics.Brier(run.TestPredictions), "{}");
}
