using Reproduce.Measurement.Flatness;
using Reproduce.Measurement.Hessian;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// ggn_soft_rank: the soft rank Tr(G (G + lambda I)^{-1}) of the training loss's generalised Gauss-Newton matrix G on the
/// measure subset ("Flatness After All?", Shoham, Mor-Yosef and Avron, arXiv 2506.17809), lambda = 5e-4 (the suite's
/// weight-decay strength, the Tikhonov strength the paper names), by Hutchinson with a conjugate-gradient solve per probe
/// (<see cref="SoftRank"/>; probes: the setting profile's hessianProbes; at most 100 iterations to a relative residual
/// of 1e-6 each).
/// Why G and not the Hessian H: the paper's soft rank is of H at a minimum, where H is positive semi-definite, and for
/// an exponential-family NLL (softmax cross-entropy) G is the Fisher information matrix, which equals H at a calibrated
/// minimum (the paper's experiments use the Fisher's soft rank). The suite's trained networks are not exact minima:
/// on the default MLP (WD+SAM, seed 6) H + 5e-4 I has a direction of negative curvature, so CG on it breaks down
/// within 8 iterations and Tr(H (H + lambda I)^{-1}) has a pole in its spectrum's range. G is positive semi-definite
/// by construction, so G + lambda I is always positive definite and the solve is well posed.
/// </summary>
public sealed class GaussNewtonSoftRankMetric : RunMetric
{
    public const double Damping = 5e-4;
    public const int MaxIterations = 100;

    public override string Name => "ggn_soft_rank";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => "soft rank Tr(G (G + 5e-4 I)^{-1}) of the training loss's Gauss-Newton (Fisher) matrix on the measure subset (Hutchinson, Rademacher, conjugate-gradient solves of at most 100 iterations; probes: the setting profile's hessianProbes)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        // The run's shared solves (the TIC reads the same ones).
        var r = SoftRank.Estimate(run.GaussNewtonSolves());
        return new(r.Value, Details(new { r.StandardError, r.Probes, r.Damping, r.MaxIterations, r.MaxRelativeResidual, r.Converged, r.NegativeCurvature, r.ApplyCount, samples = run.MeasureSubset.SampleCount }));
    }
}
