using Reproduce.Measurement.Hessian;
using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// gradient_norm: ||grad L(w)|| of the training loss on the measure subset at the final weights: how far from a
/// stationary point the run stopped (the first-order term that can swamp SAM sharpness).
/// </summary>
public sealed class GradientNormMetric : RunMetric
{
    public override string Name => "gradient_norm";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "norm of the training-loss gradient on the measure subset at the final weights";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var g = new HessianOperator(new ModelObjective(run.Model, run.Loss, run.MeasureSubset)).Gradient();
        return new(g.to(ScalarType.Float64).norm().item<double>(), Details(new { samples = run.MeasureSubset.SampleCount }));
    }
}
