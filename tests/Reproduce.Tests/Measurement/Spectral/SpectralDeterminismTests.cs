using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Spectral;

/// <summary>The eigensolver and estimators on dense matrices, on every available device (Support/Devices).</summary>
[TestFixture, Category("Unit")]
public class SpectralDeterminismTests
{
    private static MatrixOperator Operator(Device device) => new(new SpectrumCase(30, SpectrumKind.Decaying, 42).Matrix().to(device));

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void SameSeedGivesIdenticalNumbers(Device device)
    {
        using var scope = NewDisposeScope();
        using var op = Operator(device);
        Assert.That(new LanczosEigensolver { Seed = 3 }.Solve(op, 3).Values, Is.EqualTo(new LanczosEigensolver { Seed = 3 }.Solve(op, 3).Values));
        Assert.That(new HutchinsonTrace { Seed = 3 }.Estimate(op), Is.EqualTo(new HutchinsonTrace { Seed = 3 }.Estimate(op)));
        Assert.That(new StochasticLanczosQuadrature { Seed = 3, Steps = 10 }.Estimate(op).Nodes[0],
            Is.EqualTo(new StochasticLanczosQuadrature { Seed = 3, Steps = 10 }.Estimate(op).Nodes[0]));
        Assert.That(new HutchinsonTrace { Seed = 3 }.Estimate(op).Value, Is.Not.EqualTo(new HutchinsonTrace { Seed = 4 }.Estimate(op).Value));
    }

    public static IEnumerable<TestCaseData> Seeds() => Devices.OnEvery(Enumerable.Range(1, 10).Select(s => new TestCaseData(s)));

    [TestCaseSource(nameof(Seeds))]
    public void HutchinsonWithinThreeStandardErrorsOnRotatedMatrices(int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var c = new SpectrumCase(25, SpectrumKind.Indefinite, seed);
        using var op = new MatrixOperator(c.Matrix().to(device));
        var estimate = new HutchinsonTrace { Probes = 50, Seed = seed }.Estimate(op);
        Assert.That(Math.Abs(estimate.Value - c.Eigenvalues().Sum()), Is.LessThanOrEqualTo(3 * estimate.StandardError));
        // Rotated, so the estimator is genuinely random (a diagonal matrix would make it exact).
        Assert.That(estimate.StandardError, Is.GreaterThan(0.01));
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void SpectralDensityIntegratesToOneAndShowsTwoClusters(Device device)
    {
        using var scope = NewDisposeScope();
        var c = new SpectrumCase(40, SpectrumKind.Clustered, 7);   // half near 1, half near 10
        using var op = new MatrixOperator(c.Matrix().to(device));
        var density = new StochasticLanczosQuadrature { Probes = 5, Steps = 20, Seed = 1 }.Estimate(op);
        var grid = Enumerable.Range(0, 2001).Select(i => -5 + 20.0 * i / 2000).ToArray();
        var phi = density.Density(grid, 0.2);
        double dx = grid[1] - grid[0];
        Assert.That(phi.Sum() * dx, Is.EqualTo(1.0).Within(1e-3));
        double lowMass = grid.Zip(phi).Where(t => t.First < 5.5).Sum(t => t.Second) * dx;
        Assert.That(lowMass, Is.EqualTo(0.5).Within(0.15), "About half the mass sits in the cluster near 1.");
    }
}
