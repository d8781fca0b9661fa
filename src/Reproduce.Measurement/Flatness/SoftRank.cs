using TorchSharp;
using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Flatness;

/// <summary>
/// The soft rank of a symmetric operator H (Shoham, Mor-Yosef and Avron, "Flatness After All?", arXiv 2506.17809):
/// rank_lambda(H) = Tr(H (H + lambda I)^{-1}) = sum_i lambda_i / (lambda_i + lambda), each eigenvalue counted as about 1
/// when it is well above lambda and as lambda_i / lambda when well below (the paper's flatness measure; its
/// asymptotic generalisation gap for a calibrated model is of order rank_lambda / n).
/// Estimated by Hutchinson with one conjugate-gradient solve per Rademacher probe z: since
/// H (H + lambda I)^{-1} = I - lambda (H + lambda I)^{-1} and z^T z = d exactly, each probe's value is
/// d - lambda z^T u with u = (H + lambda I)^{-1} z. A truncated solve under-estimates z^T u (see
/// <see cref="ConjugateGradient"/>), so an unconverged probe over-estimates its value: check the residual.
/// Needs H + lambda I positive definite (at a minimum H is positive semi-definite); an eigenvalue at or below
/// -lambda is reported as <see cref="DampedTraceEstimate.NegativeCurvature"/>.
/// </summary>
public sealed class SoftRank
{
    public double Damping { get; init; } = 5e-4;
    public int Probes { get; init; } = 20;
    public long Seed { get; init; } = 0;
    public ConjugateGradient Solver { get; init; } = new();

    public DampedTraceEstimate Estimate(ILinearOperator op)
    {
        using var solves = DampedProbeSolves.Solve(op, Damping, Probes, Seed, Solver);
        return Estimate(solves);
    }

    /// <summary>The estimate from probes already solved (<see cref="DampedProbeSolves"/>, e.g. shared with the TIC):
    /// each probe's value d - lambda z.u.</summary>
    public static DampedTraceEstimate Estimate(DampedProbeSolves solves)
    {
        ArgumentNullException.ThrowIfNull(solves);
        using var scope = NewDisposeScope();
        var samples = new double[solves.Probes.Count];
        for (int j = 0; j < samples.Length; j++)
        {
            samples[j] = solves.Dimension - solves.Damping * solves.Probes[j].dot(solves.Solutions[j]).item<double>();
            if (!double.IsFinite(samples[j])) throw new NonFiniteValueException($"Soft-rank probe {j} gave a non-finite value.");
        }
        var (mean, se) = SampleStatistics.MeanAndStandardError(samples);
        return new DampedTraceEstimate(mean, se, samples.Length, solves.Damping, solves.ApplyCount, solves.MaxIterations, solves.MaxRelativeResidual, solves.Converged, solves.NegativeCurvature,
            "Hutchinson (Rademacher) with conjugate-gradient solves");
    }
}
