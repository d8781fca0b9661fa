using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>js_divergence: the mean over test points of the Jensen-Shannon divergence (nats) between two seeds'
/// predicted distributions, averaged over the other seeds of the same (setting, regime).</summary>
public sealed class JensenShannonMetric : GroupMetric
{
    public override string Name => "js_divergence";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "mean Jensen-Shannon divergence (nats) with the other seeds of the same regime";

    public override double Between(Predictions a, Predictions b) => FunctionalConsistency.JensenShannon(a, b);
}
