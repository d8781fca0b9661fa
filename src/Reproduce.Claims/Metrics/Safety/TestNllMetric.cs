using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>test_nll: mean -log p_y over the test subset.</summary>
public sealed class TestNllMetric : RunMetric
{
    public override string Name => "test_nll";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "negative log-likelihood on the test subset";

    public override MetricValue Compute(RunMeasurementContext run) => new(ClassificationMetrics.NegativeLogLikelihood(run.TestPredictions), "{}");
}
