using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// Power iteration with deflation, PyHessian's method, kept as the reference point for what the field uses.
/// Eigenvalue i is iterated on the complement of the i-1 already found vectors (Gram–Schmidt each step) until
/// the Rayleigh quotient's relative change |lambda - lambda_prev| / (|lambda_prev| + 1e-6) is below the
/// tolerance (PyHessian's rule). It converges to the largest-MAGNITUDE eigenvalues, which for a Hessian with
/// strong negative curvature are not the largest ones; its rate is |lambda_{i+1} / lambda_i| per step.
/// </summary>
public sealed class PowerIteration
{
    public double Tolerance { get; init; } = 1e-3;
    public int MaxIterations { get; init; } = 100;
    public long Seed { get; init; } = 0;

    public EigenResult Solve(ILinearOperator op, int k)
    {
        ArgumentNullException.ThrowIfNull(op);
        long n = op.Dimension;
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [1, {n}] (the operator's dimension).");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        var found = new List<Tensor>();
        var values = new double[k];
        var residuals = new double[k];
        long applies = 0;
        int iterations = 0;
        bool allConverged = true;
        for (int i = 0; i < k; i++)
        {
            // v lives outside every dispose scope and is replaced by hand, so memory stays flat per iteration.
            Tensor v = randn(n, dtype: ScalarType.Float64, generator: generator).OnDevice(op.Device).DetachFromDisposeScope();
            double? previous = null;
            double lambda = 0, residual = double.NaN;
            bool converged = false;
            for (int it = 0; it < MaxIterations; it++)
            {
                using var stepScope = NewDisposeScope();
                var u = Orthonormalise(v, found);
                var hv = op.Apply(u.to(op.Dtype)).to(ScalarType.Float64);
                applies++;
                iterations++;
                lambda = u.dot(hv).item<double>();
                if (!double.IsFinite(lambda)) throw new NonFiniteValueException($"Power iteration produced a non-finite Rayleigh quotient at eigenvalue {i}, step {it}.");
                residual = (hv - lambda * u).norm().item<double>();
                double norm = hv.norm().item<double>();
                bool stop = norm == 0 || previous is double p && Math.Abs(lambda - p) / (Math.Abs(p) + 1e-6) < Tolerance;
                var next = (stop ? u : hv / norm).DetachFromDisposeScope();
                v.Dispose();
                v = next;
                if (stop) { converged = true; break; }
                previous = lambda;
            }
            allConverged &= converged;
            values[i] = lambda;
            residuals[i] = residual;
            found.Add(v);
        }
        var vectors = stack(found.ToArray(), 1).DetachFromDisposeScope();
        foreach (var f in found) f.Dispose();
        return new EigenResult(values, residuals, applies, iterations, allConverged, "Power iteration with deflation") { Vectors = vectors };
    }

    private static Tensor Orthonormalise(Tensor v, List<Tensor> basis)
    {
        foreach (var b in basis) v = v - b.dot(v) * b;
        return v / v.norm();
    }
}
