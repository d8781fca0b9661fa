using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// hessian_eigenvalue_ratio_1_5: lambda_1 / lambda_5, the largest Hessian eigenvalue of the training loss on the measure
/// subset over the fifth largest (Caldarola et al. 2022, after Jastrzebski et al.: a smaller ratio is a flatter, less
/// anisotropic top of the spectrum), both from one Lanczos run with k = 5 from a seeded start vector. The details give
/// all five eigenvalues and their residuals; a fifth eigenvalue at or below zero makes the ratio meaningless, so it is
/// stored as NaN and the evaluator drops that seed.
/// </summary>
public sealed class HessianEigenvalueRatioMetric : RunMetric
{
    [MetricParameter("Lanczos residual tolerance")]
    public double Tolerance { get; init; } = 1e-4;

    [MetricParameter("Lanczos iteration cap (Hessian-vector products)")]
    public int MaxIterations { get; init; } = 100;

    [MetricParameter("which eigenvalue divides the largest (1-based)")]
    public int Denominator { get; init; } = 5;

    public override string Name => $"hessian_eigenvalue_ratio_1_{Denominator}";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"largest over {Denominator}th largest Hessian eigenvalue of the training loss on the measure subset (one Lanczos run for the top {Denominator}, tolerance {Format(Tolerance)}, at most {MaxIterations} iterations)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var op = new HessianOperator(new ModelObjective(run.Model, run.Loss, run.MeasureSubset));
        using var r = new LanczosEigensolver { Tolerance = Tolerance, MaxIterations = MaxIterations, Seed = run.Seed }.Solve(op, Denominator);
        return new(Ratio(r.Values, Denominator), Details(new { values = r.Values, residuals = r.ResidualNorms, r.ApplyCount, r.Converged, samples = run.MeasureSubset.SampleCount }));
    }

    /// <summary>values[0] / values[k - 1] for eigenvalues in descending order; NaN unless the k-th is positive.</summary>
    public static double Ratio(IReadOnlyList<double> descending, int k) =>
        descending.Count >= k && descending[k - 1] > 0 ? descending[0] / descending[k - 1] : double.NaN;
}
