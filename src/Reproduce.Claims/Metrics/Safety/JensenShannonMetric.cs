using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>js_divergence: the mean over test points of the Jensen-Shannon divergence (nats) between two seeds'
/// predicted distributions, averaged over the other seeds of the same (setting, regime). Descriptive: the seeds' values
/// share models, so they are not independent replicates; claims on it are tested by the paired permutation test over
/// models (Statistics.ModelPermutationTest).</summary>
public sealed class JensenShannonMetric : GroupMetric
{
    public override string Name => "js_divergence";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "mean Jensen-Shannon divergence (nats) with the other seeds of the same regime (descriptive: seeds share models, so not independent replicates; claims use the permutation test over models)";

    public override double Between(Predictions a, Predictions b) => FunctionalConsistency.JensenShannon(a, b);
}
