using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>corruption_accuracy: mean accuracy on the robustness subset over every corruption of the suite at every
/// severity, the corruptions' noise drawn with the run's measurement seed.</summary>
public sealed class CorruptionAccuracyMetric : RunMetric
{
    public override string Name => "corruption_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => $"mean accuracy over {Corruptions.Suite.Count} corruptions x {Corruption.Severities} severities (robustness subset)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var r = new CorruptionRobustness { Seed = run.Seed }.Evaluate(run.Model, run.RobustnessSubset, run.Data.Images);
        return new(r.MeanAccuracy, Details(new { clean = r.CleanAccuracy, perCorruption = r.PerCorruption, samples = run.RobustnessSubset.SampleCount }));
    }
}
