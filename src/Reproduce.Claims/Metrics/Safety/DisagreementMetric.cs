using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>disagreement: the fraction of test points on which two seeds' predicted classes differ, averaged over the
/// other seeds of the same (setting, regime).</summary>
public sealed class DisagreementMetric : GroupMetric
{
    public override string Name => "disagreement";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "mean test-set prediction disagreement with the other seeds of the same regime";

    public override double Between(Predictions a, Predictions b) => FunctionalConsistency.Disagreement(a, b);
}
