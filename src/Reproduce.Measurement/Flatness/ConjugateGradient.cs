using TorchSharp;
using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Hessian;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Flatness;

/// <summary>
/// Conjugate gradients for the damped system (A + sigma I) x = b with A symmetric and A + sigma I positive definite
/// (Hestenes and Stiefel 1952), from x_0 = 0, in float64 (the operator is applied in its own dtype). It stops when the
/// recursive residual meets ||r_k|| &lt;= Tolerance ||b||, after MaxIterations, or when a search direction p has
/// p^T (A + sigma I) p &lt;= 0: then A has an eigenvalue at or below -sigma and the damped system is not positive definite
/// (the result says so; x is the last iterate). From x_0 = 0, b^T x_k = ||x_k||^2_(A+sigma I) rises monotonically to
/// b^T (A + sigma I)^{-1} b, so a truncated solve under-estimates that quadratic form (used by <see cref="SoftRank"/>).
/// </summary>
public sealed class ConjugateGradient
{
    public double Tolerance { get; init; } = 1e-6;
    public int MaxIterations { get; init; } = 100;

    public ConjugateGradientResult Solve(ILinearOperator op, double damping, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(b);
        if (!(Tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "Tolerance must be positive.");
        if (MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "Conjugate gradients needs at least one iteration.");
        if (!double.IsFinite(damping) || damping < 0) throw new ArgumentOutOfRangeException(nameof(damping), damping, "The damping must be finite and non-negative.");
        if (b.dim() != 1 || b.shape[0] != op.Dimension)
            throw new ArgumentException($"The right-hand side must be a vector of length {op.Dimension}; got shape [{string.Join(", ", b.shape)}].", nameof(b));
        using var scope = NewDisposeScope();
        var rhs = b.to(ScalarType.Float64).OnDevice(op.Device);
        double bNorm = rhs.norm().item<double>();
        var x = zeros_like(rhs);
        if (bNorm == 0) return new ConjugateGradientResult(x.MoveToOuterDisposeScope(), 0, 0, true, false);
        var r = rhs.clone();
        var p = r.clone();
        double rr = r.dot(r).item<double>();
        int k = 0;
        bool negativeCurvature = false;
        while (k < MaxIterations && Math.Sqrt(rr) > Tolerance * bNorm)
        {
            using var stepScope = NewDisposeScope();
            var ap = op.Apply(p.to(op.Dtype)).to(ScalarType.Float64) + damping * p;
            double pap = p.dot(ap).item<double>();
            if (!double.IsFinite(pap)) throw new NonFiniteValueException($"Conjugate gradients met a non-finite curvature p^T (A + sigma I) p at iteration {k}.");
            if (pap <= 0) { negativeCurvature = true; break; }
            double alpha = rr / pap;
            x.add_(p, alpha: alpha);
            r.add_(ap, alpha: -alpha);
            double rrNext = r.dot(r).item<double>();
            p.mul_(rrNext / rr).add_(r);
            rr = rrNext;
            k++;
        }
        double relative = Math.Sqrt(rr) / bNorm;
        return new ConjugateGradientResult(x.MoveToOuterDisposeScope(), k, relative, relative <= Tolerance && !negativeCurvature, negativeCurvature);
    }
}

/// <summary>A conjugate-gradient solve: the iterate x (float64, the caller owns it), the iterations (operator applications)
/// spent, the final relative residual ||b - (A + sigma I) x|| / ||b|| (the recursive one), whether it met the tolerance,
/// and whether the damped operator showed non-positive curvature.</summary>
public sealed record ConjugateGradientResult(Tensor Solution, int Iterations, double RelativeResidual, bool Converged, bool NegativeCurvature) : IDisposable
{
    public void Dispose() => Solution.Dispose();
}

/// <summary>The worst of several solves, as a damped trace estimate reports them: the most iterations, the largest
/// relative residual, whether every solve converged, whether any met non-positive curvature.</summary>
internal sealed class SolveDiagnostics
{
    public int MaxIterations { get; private set; }
    public double MaxRelativeResidual { get; private set; }
    public bool Converged { get; private set; } = true;
    public bool NegativeCurvature { get; private set; }

    public void Add(ConjugateGradientResult solve)
    {
        MaxIterations = Math.Max(MaxIterations, solve.Iterations);
        MaxRelativeResidual = Math.Max(MaxRelativeResidual, solve.RelativeResidual);
        Converged &= solve.Converged;
        NegativeCurvature |= solve.NegativeCurvature;
    }
}
