using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Claims.Metrics;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using static TorchSharp.torch;

namespace Reproduce.Tests.Claims.Metrics;

/// <summary>lambda_1 / lambda_5 (Caldarola et al.'s anisotropy of the top of the spectrum): the metric's Lanczos run for
/// the top five and its ratio agree with eigvalsh on random symmetric matrices (a rotated spectrum with a positive
/// fifth eigenvalue); a fifth eigenvalue at or below zero gives NaN.</summary>
[TestFixture, Category("Unit")]
public class HessianEigenvalueRatioTests
{
    [Test]
    public void TheRatioOfTheTopToTheFifthEigenvalueMatchesEigvalsh()
    {
        var metric = new HessianEigenvalueRatioMetric();
        Assert.That(metric.Name, Is.EqualTo("hessian_eigenvalue_ratio_1_5"));
        Prop.ForAll(Gen.Choose(1, 1_000_000).ToArbitrary(), seed =>
        {
            using var scope = NewDisposeScope();
            var g = new Generator((ulong)seed);
            // H = Q diag(d) Q^T, n = 30, d spread over [-1, 10] with the top five well above zero.
            int n = 30;
            var d = cat([rand(5, dtype: ScalarType.Float64, generator: g) * 8 + 2, rand(n - 5, dtype: ScalarType.Float64, generator: g) * 2.5 - 1]);
            var (q, _) = linalg.qr(randn(n, n, dtype: ScalarType.Float64, generator: g));
            var h = q.matmul(diag(d)).matmul(q.T);
            h = (h + h.T) / 2;
            var exact = linalg.eigvalsh(h).flip(0).data<double>().ToArray();
            using var op = new MatrixOperator(h);
            using var r = new LanczosEigensolver { Tolerance = metric.Tolerance, MaxIterations = metric.MaxIterations, Seed = seed }.Solve(op, metric.Denominator);
            double ratio = HessianEigenvalueRatioMetric.Ratio(r.Values, metric.Denominator);
            double expected = exact[0] / exact[4];
            Assert.That(ratio, Is.EqualTo(expected).Within(1e-6 * expected), $"seed {seed}");
        }).QuickCheckThrowOnFailure();
    }

    [Test]
    public void AFifthEigenvalueAtOrBelowZeroOrMissingIsNaN()
    {
        Assert.That(HessianEigenvalueRatioMetric.Ratio([4, 3, 2, 1, 0.5], 5), Is.EqualTo(8));
        Assert.That(HessianEigenvalueRatioMetric.Ratio([4, 3, 2, 1, 0], 5), Is.NaN);
        Assert.That(HessianEigenvalueRatioMetric.Ratio([4, 3, 2, 1, -0.1], 5), Is.NaN);
        Assert.That(HessianEigenvalueRatioMetric.Ratio([4, 3, 2, 1], 5), Is.NaN);
    }
}
