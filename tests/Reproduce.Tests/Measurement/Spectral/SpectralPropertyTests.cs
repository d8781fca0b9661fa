using FsCheck;
using FsCheck.Fluent;
using FsCheck.NUnit;
using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Spectral;

/// <summary>
/// Every spectral routine on random symmetric matrices with known spectra, posed as the quadratic objective
/// 1/2 x^T A x + b^T x so the whole double-backward HVP path runs. The oracle is eigvalsh / the known spectrum.
/// </summary>
[TestFixture, Category("Property")]
public class SpectralPropertyTests
{
    private static (QuadraticObjective Objective, HessianOperator Operator) Quadratic(SpectrumCase c)
    {
        var a = c.Matrix();
        var g = new Generator((ulong)c.Seed + 3);
        var objective = new QuadraticObjective(a, randn(c.Size, dtype: ScalarType.Float64, generator: g), randn(c.Size, dtype: ScalarType.Float64, generator: g));
        return (objective, new HessianOperator(objective));
    }

    private static double Scale(double[] lambda) => lambda.Max(Math.Abs);

    [FsCheck.NUnit.Property(MaxTest = 40)]
    public Property HessianVectorProductEqualsAv() => Prop.ForAll(SpectrumCases.Arbitrary(), c =>
    {
        using var scope = NewDisposeScope();
        var (objective, op) = Quadratic(c);
        using var _ = objective;
        var v = randn(c.Size, dtype: ScalarType.Float64, generator: new Generator((ulong)c.Seed + 5));
        var expected = c.Matrix().mv(v);
        return op.Apply(v).allclose(expected, rtol: 1e-10, atol: 1e-10).Label($"Hv != Av for {c}");
    });

    [FsCheck.NUnit.Property(MaxTest = 40)]
    public Property LanczosTopAndBottomMatchEigvalsh() => Prop.ForAll(SpectrumCases.Arbitrary(), Gen.Choose(1, 5).ToArbitrary(), (c, kRaw) =>
    {
        using var scope = NewDisposeScope();
        var (objective, op) = Quadratic(c);
        using var _ = objective;
        int k = Math.Min(kRaw, c.Size);
        var exact = linalg.eigvalsh(c.Matrix()).data<double>().ToArray(); // ascending
        var solver = new LanczosEigensolver { Tolerance = 1e-10, MaxIterations = c.Size, Seed = c.Seed, ComputeVectors = true };
        using var top = solver.Solve(op, k, SpectrumEnd.Largest);
        using var bottom = solver.Solve(op, k, SpectrumEnd.Smallest);
        double tol = 1e-8 * Scale(exact);
        bool topOk = Enumerable.Range(0, k).All(i => Math.Abs(top.Values[i] - exact[c.Size - 1 - i]) <= tol);
        bool bottomOk = Enumerable.Range(0, k).All(i => Math.Abs(bottom.Values[i] - exact[i]) <= tol);
        // Ritz vectors: orthonormal, with true residual ||Av - lambda v|| small.
        var a = c.Matrix();
        var vtv = top.Vectors!.t().mm(top.Vectors!);
        bool orthonormal = vtv.allclose(eye(k, dtype: ScalarType.Float64), atol: 1e-8);
        bool residualsSmall = Enumerable.Range(0, k).All(i =>
        {
            var v = top.Vectors![TensorIndex.Colon, TensorIndex.Single(i)];
            return (a.mv(v) - top.Values[i] * v).norm().item<double>() <= 1e-6 * Scale(exact);
        });
        return (topOk && bottomOk && orthonormal && residualsSmall && top.Converged && bottom.Converged)
            .Label($"{c}, k={k}: top [{string.Join(", ", top.Values)}] vs [{string.Join(", ", exact.Reverse().Take(k))}]; bottom [{string.Join(", ", bottom.Values)}] vs [{string.Join(", ", exact.Take(k))}]; orthonormal={orthonormal}, residuals={residualsSmall}");
    });

    [FsCheck.NUnit.Property(MaxTest = 30)]
    public Property PowerIterationFindsLargestMagnitude() => Prop.ForAll(Gen.Choose(4, 30).ToArbitrary(), Gen.Choose(0, 1_000_000).ToArbitrary(), (n, seed) =>
    {
        using var scope = NewDisposeScope();
        // Spectrum with a clear magnitude gap at the top (|lambda_2/lambda_1| <= 0.8), sign chosen at random,
        // so the dominant eigenvalue may be negative: power iteration must then return it, not the largest.
        var rng = new Random(seed);
        double top = (rng.Next(2) == 0 ? -1 : 1) * (5 + rng.NextDouble());
        var values = Enumerable.Range(0, n - 1).Select(_ => -4 + 8 * rng.NextDouble()).Append(top).ToArray();
        var g = new Generator((ulong)seed);
        var (q, _) = linalg.qr(randn(new long[] { n, n }, dtype: ScalarType.Float64, generator: g));
        var a = q.mm(diag(tensor(values))).mm(q.t());
        using var op = new MatrixOperator((a + a.t()) / 2);
        using var result = new PowerIteration { Tolerance = 1e-12, MaxIterations = 2000, Seed = seed }.Solve(op, 1);
        return (Math.Abs(result.Values[0] - top) <= 1e-6 * Math.Abs(top)).Label($"n={n}, seed={seed}: got {result.Values[0]}, expected {top}");
    });

    [FsCheck.NUnit.Property(MaxTest = 30)]
    public Property HutchinsonWithinFiveStandardErrors() => Prop.ForAll(SpectrumCases.Arbitrary(), c =>
    {
        using var scope = NewDisposeScope();
        var (objective, op) = Quadratic(c);
        using var _ = objective;
        var estimate = new HutchinsonTrace { Probes = 30, Seed = c.Seed }.Estimate(op);
        double exact = c.Eigenvalues().Sum();
        // 5 SE: a false alarm has probability ~6e-7 per case, so the property is not flaky.
        return (Math.Abs(estimate.Value - exact) <= 5 * estimate.StandardError + 1e-9).Label($"{c}: {estimate.Value} +- {estimate.StandardError} vs {exact}");
    });

    [FsCheck.NUnit.Property(MaxTest = 30)]
    public Property SlqWeightsSumToOneAndReproduceMoments() => Prop.ForAll(SpectrumCases.Arbitrary(8, 30), c =>
    {
        using var scope = NewDisposeScope();
        var (objective, op) = Quadratic(c);
        using var _ = objective;
        int m = 5;
        var density = new StochasticLanczosQuadrature { Probes = 1, Steps = m, Seed = c.Seed }.Estimate(op);
        // The same probe the estimator drew: a Rademacher vector from the same seed, normalised.
        var v = RandomProbes.Rademacher(c.Size, new Generator((ulong)c.Seed));
        v = v / v.norm();
        var a = c.Matrix();
        bool sumOne = Math.Abs(density.Weights[0].Sum() - 1) <= 1e-12;
        var power = v.clone();
        var failures = new List<string>();
        for (int j = 0; j <= 2 * m - 1; j++)
        {
            double exact = v.dot(power).item<double>();
            double quad = density.Nodes[0].Zip(density.Weights[0], (t, w) => w * Math.Pow(t, j)).Sum();
            if (Math.Abs(quad - exact) > 1e-9 * Math.Max(1, Math.Abs(exact)) + 1e-9 * Math.Pow(Scale(c.Eigenvalues()), j))
                failures.Add($"j={j}: {quad} vs {exact}");
            power = a.mv(power);
        }
        return (sumOne && failures.Count == 0).Label($"{c}: weights sum {density.Weights[0].Sum()}; {string.Join("; ", failures)}");
    });

    [FsCheck.NUnit.Property(MaxTest = 30)]
    public Property SlqWithFullStepsRecoversSpectrum() => Prop.ForAll(SpectrumCases.Arbitrary(4, 25), c =>
    {
        using var scope = NewDisposeScope();
        var (objective, op) = Quadratic(c);
        using var _ = objective;
        var density = new StochasticLanczosQuadrature { Probes = 1, Steps = c.Size, Seed = c.Seed }.Estimate(op);
        var exact = c.Eigenvalues();
        var nodes = density.Nodes[0];
        double tol = 1e-7 * Scale(exact);
        // Every node is an eigenvalue, and every eigenvalue is within tol of a node (multiplicity aside).
        bool nodesAreEigenvalues = nodes.All(t => exact.Any(l => Math.Abs(l - t) <= tol));
        bool eigenvaluesCovered = exact.All(l => nodes.Any(t => Math.Abs(l - t) <= tol));
        return (nodesAreEigenvalues && eigenvaluesCovered).Label($"{c}: nodes [{string.Join(", ", nodes)}] vs [{string.Join(", ", exact)}]");
    });
}
