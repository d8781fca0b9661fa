using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>disagreement: the fraction of test points on which two seeds' predicted classes differ, averaged over the
/// other seeds of the same (setting, regime). Descriptive: the seeds' values share models, so they are not independent
/// replicates; claims on it are tested by the paired permutation test over models (Statistics.ModelPermutationTest).</summary>
public sealed class DisagreementMetric : GroupMetric
{
    public override string Name => "disagreement";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "mean test-set prediction disagreement with the other seeds of the same regime (descriptive: seeds share models, so not independent replicates; claims use the permutation test over models)";

    public override double Between(Predictions a, Predictions b) => FunctionalConsistency.Disagreement(a, b);
}
