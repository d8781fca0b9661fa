using TorchSharp;
using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Flatness;

/// <summary>
/// The damped Takeuchi information criterion Tr((H + lambda I)^{-1} C), with H the Hessian of the mean training loss
/// and C = (1/N) sum_i g_i g_i^T - gbar gbar^T the covariance of the per-sample loss gradients (centred, as in
/// Shoham, Mor-Yosef and Avron, arXiv 2506.17809, who link the generalisation gap of a non-calibrated model to
/// TIC / N). The undamped TIC Tr(H^{-1} C) does not exist for an over-parameterised network (H is singular: the
/// number of parameters exceeds the rank N (classes - 1) of its Gauss-Newton part), so H is damped by lambda I, the
/// Tikhonov / weight-decay strength the paper pairs with the soft rank; with C = H the damped TIC is exactly the soft
/// rank Tr(H (H + lambda I)^{-1}) (tested).
/// Estimated by Hutchinson: for Rademacher z, E[z^T M z] = Tr(M) for any square M, and with u = (H + lambda I)^{-1} z
/// (one conjugate-gradient solve) z^T (H + lambda I)^{-1} C z = u^T C z
/// = (1/N) sum_i (g_i.u)(g_i.z) - (gbar.u)(gbar.z), so one pass over the per-sample gradients projects them on all
/// probes and solutions at once.
/// </summary>
public sealed class TakeuchiInformationCriterion
{
    public double Damping { get; init; } = 5e-4;
    public int Probes { get; init; } = 20;
    public long Seed { get; init; } = 0;
    public ConjugateGradient Solver { get; init; } = new();

    public DampedTraceEstimate Estimate(ILinearOperator hessian, ISampleGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(hessian);
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Dimension != hessian.Dimension)
            throw new ArgumentException($"The per-sample gradients have length {gradients.Dimension} but the Hessian is {hessian.Dimension} x {hessian.Dimension}.", nameof(gradients));
        using var solves = DampedProbeSolves.Solve(hessian, Damping, Probes, Seed, Solver);
        return Estimate(solves, gradients);
    }

    /// <summary>The estimate from probes already solved (<see cref="DampedProbeSolves"/>, e.g. shared with the soft
    /// rank): each probe's value u^T C z from one projection of the per-sample gradients.</summary>
    public static DampedTraceEstimate Estimate(DampedProbeSolves solves, ISampleGradients gradients)
    {
        ArgumentNullException.ThrowIfNull(solves);
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Dimension != solves.Dimension)
            throw new ArgumentException($"The per-sample gradients have length {gradients.Dimension} but the solves are of dimension {solves.Dimension}.", nameof(gradients));
        using var scope = NewDisposeScope();
        int probes = solves.Probes.Count;
        // P[:, j] = G z_j and P[:, Probes + j] = G u_j, with G the N x d matrix of per-sample gradients.
        var projections = gradients.Project(stack(solves.Probes.Concat(solves.Solutions).ToArray(), 1)).to(ScalarType.Float64).cpu();
        var pz = projections.narrow(1, 0, probes);
        var pu = projections.narrow(1, probes, probes);
        var centred = (pu * pz).mean(new long[] { 0 }) - pu.mean(new long[] { 0 }) * pz.mean(new long[] { 0 });
        var samples = HostRead.ToArray<double>(centred);
        for (int j = 0; j < probes; j++)
            if (!double.IsFinite(samples[j])) throw new NonFiniteValueException($"TIC probe {j} gave a non-finite value.");
        var (mean, se) = SampleStatistics.MeanAndStandardError(samples);
        return new DampedTraceEstimate(mean, se, probes, solves.Damping, solves.ApplyCount, solves.MaxIterations, solves.MaxRelativeResidual, solves.Converged, solves.NegativeCurvature,
            "Hutchinson (Rademacher) with conjugate-gradient solves and per-sample gradient projections");
    }
}
