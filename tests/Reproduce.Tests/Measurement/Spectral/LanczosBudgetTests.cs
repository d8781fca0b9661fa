using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Tests.Support;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Spectral;

/// <summary>
/// A symmetric n x n matrix with n - 1 eigenvalues spread uniformly over [-1, 1] and a top eigenvalue 1 + Gap,
/// everything times Scale. The relative gap (lambda_1 - lambda_2) / (lambda_2 - lambda_n) is at least Gap / 2.
/// </summary>
public sealed record TopGapCase(int Size, double Gap, double Scale, int Seed)
{
    public double[] Eigenvalues()
    {
        var rng = new Random(Seed);
        var v = Enumerable.Range(0, Size - 1).Select(_ => -1 + 2 * rng.NextDouble()).Append(1 + Gap).Select(x => Scale * x).ToArray();
        Array.Sort(v);
        return v;
    }

    public Tensor Matrix() => LanczosBudgetTests.WithSpectrum(Eigenvalues(), Seed);

    public override string ToString() => $"TopGapCase(Size={Size}, Gap={Gap}, Scale={Scale}, Seed={Seed})";
}

/// <summary>
/// The eigensolver as production calls it for the top Hessian eigenvalue (tolerance 1e-4, at most 60 iterations), on
/// operators much larger than the iteration budget, so the answer comes from a genuinely truncated Krylov space.
/// </summary>
[TestFixture, Category("Property")]
public class LanczosBudgetTests
{
    /// <summary>Q diag(lambda) Q^T, Q from the QR of a seeded Gaussian matrix, symmetrised.</summary>
    public static Tensor WithSpectrum(double[] lambda, int seed)
    {
        int n = lambda.Length;
        var (q, _) = linalg.qr(randn(new long[] { n, n }, dtype: ScalarType.Float64, generator: new Generator((ulong)seed + 17)));
        var a = q.mm(diag(tensor(lambda, dtype: ScalarType.Float64))).mm(q.t());
        return (a + a.t()) / 2;
    }

    private static Arbitrary<TopGapCase> TopGapCases()
    {
        var gen = from size in Gen.Choose(100, 300)
                  from gapPercent in Gen.Choose(20, 200)
                  from log10Scale in Gen.Choose(-2, 2)
                  from seed in Gen.Choose(0, 1_000_000)
                  select new TopGapCase(size, gapPercent / 100.0, Math.Pow(10, log10Scale), seed);
        return Arb.From(gen, c => c.Size > 100 ? [c with { Size = Math.Max(100, c.Size / 2) }, c with { Size = c.Size - 1 }] : []);
    }

    /// <summary>
    /// With a relative top gap gamma >= 0.1 the Ritz value's error decays like T_k(1 + 2 gamma)^-2 >= 1.86^-2k, so
    /// ~25 steps reach the 1e-4 residual and 60 is ample. Accuracy bound: theta is a Rayleigh quotient of a unit
    /// vector v with residual r = ||A v - theta v||; for symmetric A some eigenvalue lies within r of theta
    /// (Bauer-Fike / Weyl), the top Ritz value never exceeds lambda_1 (interlacing), and once theta > lambda_2 the
    /// Kato-Temple inequality sharpens this to lambda_1 - theta &lt;= r^2 / (theta - lambda_2). So
    /// 0 &lt;= lambda_1 - theta &lt;= min(r, r^2 / (theta - lambda_2)), with r the residual the solver reports and
    /// judged against its tolerance (r &lt;= 1e-4 max(|theta|, 1e-3 scale)). The reported r = |beta_m s_m1| equals the
    /// true residual up to rounding under full reorthogonalisation (checked against the Ritz vector); the slack
    /// 1e-10 ||A|| covers that rounding and eigvalsh's own (~1e-15 ||A|| n).
    /// </summary>
    [FsCheck.NUnit.Property(MaxTest = 25)]
    public Property ProductionSettingsConvergeWithinSixtyIterationsOnAClearTopGap() => Prop.ForAll(TopGapCases(), c =>
    {
        using var scope = NewDisposeScope();
        var a = c.Matrix();
        using var op = new MatrixOperator(a);
        var exact = linalg.eigvalsh(a).data<double>().ToArray();   // ascending
        double lambda1 = exact[^1], lambda2 = exact[^2], norm = exact.Max(Math.Abs);
        var solver = new LanczosEigensolver { Tolerance = 1e-4, MaxIterations = 60, Seed = c.Seed, ComputeVectors = true };
        using var result = solver.Solve(op, 1, SpectrumEnd.Largest);
        double theta = result.Values[0], r = result.ResidualNorms[0];
        var v = result.Vectors![TensorIndex.Colon, TensorIndex.Single(0)];
        double trueResidual = (a.mv(v) - theta * v).norm().item<double>();
        double slack = 1e-10 * norm;
        double error = lambda1 - theta;
        bool converged = result.Converged && result.Iterations <= 60 && result.ApplyCount <= 60;
        bool claimMet = r <= solver.Tolerance * Math.Max(Math.Abs(theta), 1e-3 * norm);
        bool honest = Math.Abs(trueResidual - r) <= slack;
        bool withinResidual = error >= -slack && error <= r + slack;
        bool withinKatoTemple = theta <= lambda2 || error <= r * r / (theta - lambda2) + slack;
        return (converged && claimMet && honest && withinResidual && withinKatoTemple).Label(
            $"{c}: converged={result.Converged} after {result.Iterations} iterations ({result.ApplyCount} applies); theta {theta:R} vs "
            + $"lambda_1 {lambda1:R} (lambda_2 {lambda2:R}), error {error:E3}; reported residual {r:E3}, true {trueResidual:E3}; "
            + $"claim met={claimMet}, honest={honest}, within r={withinResidual}, Kato-Temple={withinKatoTemple}");
    });

    [TestCaseSource(typeof(Devices), nameof(Devices.Available)), Category("Unit")]
    public void ADenseTopClusterCannotConvergeInTenIterationsAndSaysSo(Device device)
    {
        using var scope = NewDisposeScope();
        // 400 eigenvalues: 40 packed into [0.99, 1] above a bulk in [-1, 0.9]. Ten Krylov steps cannot separate
        // the top of a cluster 1e-2 wide from its 39 neighbours to a relative residual of 1e-10.
        var rng = new Random(5);
        var lambda = Enumerable.Range(0, 360).Select(_ => -1 + 1.9 * rng.NextDouble())
            .Concat(Enumerable.Range(0, 40).Select(_ => 0.99 + 0.01 * rng.NextDouble())).OrderBy(x => x).ToArray();
        var a = WithSpectrum(lambda, 5).to(device);
        using var op = new MatrixOperator(a);
        var solver = new LanczosEigensolver { Tolerance = 1e-10, MaxIterations = 10, Seed = 5 };
        using var result = solver.Solve(op, 1, SpectrumEnd.Largest);
        double theta = result.Values[0], r = result.ResidualNorms[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Converged, Is.False, "ten iterations cannot meet 1e-10 on a dense top cluster");
            Assert.That(result.Iterations, Is.EqualTo(10));
            Assert.That(result.ApplyCount, Is.EqualTo(10));
            // The reported residual is what makes the answer untrustworthy: it exceeds the tolerance (scale ~1).
            Assert.That(r, Is.GreaterThan(solver.Tolerance * Math.Max(Math.Abs(theta), 1e-3)));
            // Unconverged, but still honest: theta is below lambda_max and within the reported residual of it
            // (some eigenvalue lies within r of theta, and the cluster is far denser than r).
            Assert.That(theta, Is.LessThanOrEqualTo(lambda[^1] + 1e-12));
            Assert.That(lambda.Min(l => Math.Abs(l - theta)), Is.LessThanOrEqualTo(r + 1e-12));
        }
    }
}
