using Reproduce.Measurement.Flatness;
using Reproduce.Measurement.Hessian;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// ggn_damped_tic: Tr((G + lambda I)^{-1} C) on the measure subset, G the training loss's generalised Gauss-Newton
/// (Fisher) matrix standing in for the Hessian (why: <see cref="GaussNewtonSoftRankMetric"/>) and C the centred
/// covariance of the per-sample loss gradients ("Flatness After All?", arXiv 2506.17809: the Takeuchi information
/// criterion, damped because the curvature is singular for an over-parameterised network). lambda = 5e-4 as for
/// ggn_soft_rank, so that C = G gives the soft rank (for a calibrated model C ~ G and the two agree);
/// Hutchinson with a conjugate-gradient solve per probe (<see cref="TakeuchiInformationCriterion"/>; probes: the
/// setting profile's hessianProbes).
/// </summary>
public sealed class GaussNewtonTicMetric : RunMetric
{
    public override string Name => "ggn_damped_tic";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => "damped Takeuchi information criterion Tr((G + 5e-4 I)^{-1} C), G the Gauss-Newton (Fisher) matrix, C the per-sample gradient covariance, on the measure subset (Hutchinson, Rademacher, conjugate-gradient solves; probes: the setting profile's hessianProbes)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        // The run's shared solves (the soft rank reads the same ones); the per-sample gradients are this metric's own.
        var r = TakeuchiInformationCriterion.Estimate(run.GaussNewtonSolves(), new ModelSampleGradients(new ModelObjective(run.Model, run.Loss, run.MeasureSubset)));
        return new(r.Value, Details(new { r.StandardError, r.Probes, r.Damping, r.MaxIterations, r.MaxRelativeResidual, r.Converged, r.NegativeCurvature, r.ApplyCount, samples = run.MeasureSubset.SampleCount }));
    }
}
