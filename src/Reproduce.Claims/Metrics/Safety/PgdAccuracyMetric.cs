using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>pgd_accuracy: accuracy on the robustness subset under an l-inf projected-gradient attack from a random
/// start (its draws seeded with the run's measurement seed).</summary>
public sealed class PgdAccuracyMetric : RunMetric
{
    [MetricParameter("l-inf radius in pixel units")]
    public double Epsilon { get; init; } = 0.05;

    [MetricParameter("ascent steps")]
    public int Steps { get; init; } = 10;

    public override string Name => "pgd_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => $"accuracy under l-inf PGD, eps {Format(Epsilon)} in pixel units, {Steps} steps, random start (robustness subset)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var r = new AdversarialRobustness { Steps = Steps, Seed = run.Seed }.Evaluate(run.Model, run.RobustnessSubset, run.Data.Images, [Epsilon]);
        return new(r.Entries[0].Accuracy, Details(new { epsilon = Epsilon, steps = Steps, attack = r.Attack, samples = run.RobustnessSubset.SampleCount }));
    }
}
