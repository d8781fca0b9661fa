using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Sharpness;

namespace Reproduce.Claims.Metrics;

/// <summary>epsilon_sharpness (Keskar et al.): 100 (max L(w + d) - L(w)) / (1 + L(w)) over the box
/// |d_i| &lt;= eps (|w_i| + 1), the maximum sought by sign-gradient ascent on the training loss of the measure subset.</summary>
public sealed class EpsilonSharpnessMetric : RunMetric
{
    [MetricParameter("relative half-width of the box")]
    public double Epsilon { get; init; } = 1e-3;

    [MetricParameter("sign-ascent steps")]
    public int Steps { get; init; } = 10;

    public override string Name => "epsilon_sharpness";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"Keskar et al.'s epsilon-sharpness in percent, eps {Format(Epsilon)}, {Steps} sign-ascent steps in the box";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var r = new EpsilonSharpness { Epsilon = Epsilon, Steps = Steps, Seed = run.Seed }.Measure(new ModelObjective(run.Model, run.Loss, run.MeasureSubset));
        return new(r.Value, Details(new { r.Epsilon, r.Steps, r.BaseLoss, r.MaxLoss }));
    }
}
