using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;

namespace Reproduce.Claims.Metrics;

/// <summary>hessian_top_eigenvalue: the largest eigenvalue of the training loss's Hessian on the measure subset, by
/// Lanczos from a seeded start vector, stopped at the residual tolerance or the iteration cap.</summary>
public sealed class HessianTopEigenvalueMetric : RunMetric
{
    [MetricParameter("Lanczos residual tolerance")]
    public double Tolerance { get; init; } = 1e-4;

    [MetricParameter("Lanczos iteration cap (Hessian-vector products)")]
    public int MaxIterations { get; init; } = 60;

    public override string Name => "hessian_top_eigenvalue";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"largest Hessian eigenvalue of the training loss on the measure subset (Lanczos, tolerance {Format(Tolerance)}, at most {MaxIterations} iterations)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var op = new HessianOperator(new ModelObjective(run.Model, run.Loss, run.MeasureSubset));
        using var r = new LanczosEigensolver { Tolerance = Tolerance, MaxIterations = MaxIterations, Seed = run.Seed }.Solve(op, 1);
        return new(r.Values[0], Details(new { r.ApplyCount, r.Converged, residual = r.ResidualNorms[0], samples = run.MeasureSubset.SampleCount }));
    }
}
