using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// The k largest or k smallest eigenvalues of a symmetric operator by Lanczos with full reorthogonalisation.
/// After each step the Ritz pairs of T_m are formed; pair i is accepted when its residual
/// |beta_m s_{m,i}| &lt;= tol * max(|theta_i|, 1e-3 max_j |theta_j|) (relative, with a floor so that
/// eigenvalues near zero are judged against the operator's scale). At an invariant subspace the process
/// restarts from a random orthogonal direction, so repeated eigenvalues are found with their multiplicity
/// once the Krylov space is exhausted. With m = n the answer is exact.
/// Caveat shared by every single-vector Krylov method: a repeated or extremely close pair may be resolved
/// only as one value before the tolerance is met; check <see cref="EigenResult.ResidualNorms"/> and, where
/// multiplicity matters, use a larger k.
/// </summary>
public sealed class LanczosEigensolver
{
    public double Tolerance { get; init; } = 1e-6;
    public int MaxIterations { get; init; } = 300;
    public long Seed { get; init; } = 0;
    public bool ComputeVectors { get; init; } = false;

    public EigenResult Solve(ILinearOperator op, int k, SpectrumEnd end = SpectrumEnd.Largest)
    {
        ArgumentNullException.ThrowIfNull(op);
        long n = op.Dimension;
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [1, {n}] (the operator's dimension).");
        if (!(Tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "Tolerance must be positive.");
        int capacity = (int)Math.Min(n, Math.Max(MaxIterations, k));
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        using var lanczos = new LanczosProcess(op, randn(n, dtype: ScalarType.Float64, generator: generator), capacity);

        double[] values = Array.Empty<double>();
        double[] residuals = Array.Empty<double>();
        Tensor? ritzCoefficients = null;
        int[] chosen = Array.Empty<int>();
        bool converged = false;
        while (lanczos.Steps < capacity)
        {
            lanczos.Step();
            int m = lanczos.Steps;
            if (m < k) { if (!MaybeRestart(lanczos, generator)) break; continue; }
            using var stepScope = NewDisposeScope();
            var (theta, s) = linalg.eigh(lanczos.Tridiagonal());
            var thetaArr = HostRead.ToArray<double>(theta);
            var lastRow = HostRead.ToArray<double>(s[m - 1]);
            int take = Math.Min(k, m);
            chosen = end == SpectrumEnd.Largest
                ? Enumerable.Range(0, take).Select(i => m - 1 - i).ToArray()
                : Enumerable.Range(0, take).ToArray();
            double scale = thetaArr.Max(Math.Abs);
            values = chosen.Select(i => thetaArr[i]).ToArray();
            residuals = chosen.Select(i => Math.Abs(lanczos.LastBeta * lastRow[i])).ToArray();
            bool allMet = take == k && chosen.Select((i, c) => residuals[c] <= Tolerance * Math.Max(Math.Abs(thetaArr[i]), 1e-3 * scale)).All(x => x);
            ritzCoefficients?.Dispose();
            ritzCoefficients = s.index_select(1, tensor(chosen.Select(i => (long)i).ToArray())).DetachFromDisposeScope();
            if (m == n) { converged = take == k; break; }
            if (allMet) { converged = true; break; }
            if (!MaybeRestart(lanczos, generator)) { converged = take == k; break; }
        }

        var result = new EigenResult(values, residuals, lanczos.ApplyCount, lanczos.Steps, converged, "Lanczos (full reorthogonalisation)");
        if (ComputeVectors && ritzCoefficients is not null)
            result = result with { Vectors = lanczos.Basis.mm(ritzCoefficients.OnDevice(op.Device)).DetachFromDisposeScope() };
        ritzCoefficients?.Dispose();
        return result;
    }

    // Restart only at a numerically invariant subspace.
    private static bool MaybeRestart(LanczosProcess lanczos, Generator generator)
    {
        double scale = lanczos.Alpha.Select(Math.Abs).Concat(lanczos.Beta).Max();
        if (lanczos.LastBeta > 1e-10 * Math.Max(scale, double.Epsilon)) return true;
        return lanczos.Restart(generator);
    }
}
