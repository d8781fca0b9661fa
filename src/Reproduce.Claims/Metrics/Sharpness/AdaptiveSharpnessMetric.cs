using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Sharpness;

namespace Reproduce.Claims.Metrics;

/// <summary>adaptive_sharpness (Andriushchenko et al. 2023): the worst case max_{||u||_2 &lt;= rho} L(w + |w| u) - L(w)
/// of the training loss on the measure subset, |w| u elementwise, by projected gradient ascent from a seeded start.</summary>
public sealed class AdaptiveSharpnessMetric : RunMetric
{
    [MetricParameter("radius of the |w|-scaled l2 ball")]
    public double Rho { get; init; } = 0.1;

    [MetricParameter("projected ascent steps")]
    public int Steps { get; init; } = 10;

    public override string Name => "adaptive_sharpness";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"adaptive worst-case l2 sharpness, rho {Format(Rho)}, {Steps} ascent steps (Andriushchenko et al. 2023)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var r = new AdaptiveSharpness { Rho = Rho, Steps = Steps, Seed = run.Seed }.Measure(new ModelObjective(run.Model, run.Loss, run.MeasureSubset));
        return new(r.Value, Details(new { r.Rho, norm = r.Norm.ToString(), steps = r.StepsOrDraws, r.BaseLoss }));
    }
}
