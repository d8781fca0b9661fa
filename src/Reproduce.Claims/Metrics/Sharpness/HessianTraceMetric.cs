using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;

namespace Reproduce.Claims.Metrics;

/// <summary>hessian_trace: Hutchinson's estimate mean_k z_k^T H z_k of the training loss's Hessian trace on the measure
/// subset, z_k Rademacher, as many probes as the setting profile's hessianProbes.</summary>
public sealed class HessianTraceMetric : RunMetric
{
    public override string Name => "hessian_trace";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => "Hessian trace of the training loss on the measure subset (Hutchinson, Rademacher; probes: the setting profile's hessianProbes)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var op = new HessianOperator(new ModelObjective(run.Model, run.Loss, run.MeasureSubset));
        var r = new HutchinsonTrace { Probes = run.SettingProfile.HessianProbes, Seed = run.Seed }.Estimate(op);
        return new(r.Value, Details(new { r.StandardError, r.Probes, samples = run.MeasureSubset.SampleCount }));
    }
}
