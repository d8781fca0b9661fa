using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Hessian;

/// <summary>
/// Hessians with exact answers from the literature (protocol.md section 5). The operator, eigensolver and trace checks
/// run on every available device (Support/Devices): models and parameters are made on the CPU and moved, data sources
/// stay in host memory.
/// </summary>
[TestFixture, Category("Unit")]
public class ClosedFormTests
{
    public static IEnumerable<TestCaseData> RegressionCases() => Devices.OnEvery([new TestCaseData(20, 4, 1), new TestCaseData(33, 7, 2)]);

    [TestCaseSource(nameof(RegressionCases))]
    public void LinearRegressionHessianIsTwoOverNXtX(int n, int d, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(seed);
        var model = nn.Linear(d, 1, hasBias: false, dtype: ScalarType.Float64).to(device);
        var (x, y) = RandomNetworks.RegressionData(n, d, 1, seed);
        using var source = new TensorBatchSource(x, y, RandomNetworks.UnevenBatches(n, seed));
        var op = new HessianOperator(new ModelObjective(model, LossKind.MeanSquaredError, source));
        var expected = (2.0 / n * x.t().mm(x)).to(device);
        Assert.That(DenseMatrix.Of(op).allclose(expected, rtol: 1e-10, atol: 1e-12), Is.True);
        // lambda_max = (2/n) sigma_max(X)^2
        double sigma = linalg.svdvals(x)[0].item<double>();
        using var top = new LanczosEigensolver { Tolerance = 1e-10, Seed = seed }.Solve(op, 1);
        Assert.That(top.Values[0], Is.EqualTo(2.0 / n * sigma * sigma).Within(1e-8).Percent);
    }

    [TestCase(0.1)]
    [TestCase(3.0)]
    [TestCase(25.0)]
    public void DinhRescalingLeavesTheFunctionAndTransformsTheHessian(double a)
    {
        using var scope = NewDisposeScope();
        // One hidden ReLU layer: T_a (W1, b1, W2, b2) = (a W1, a b1, W2 / a, b2) preserves f because ReLU is
        // positively homogeneous. With theta' = D theta (D diagonal), H' = D^-1 H D^-1: H11' = H11 / a^2,
        // H22' = a^2 H22, H12' = H12.
        var model = RandomNetworks.Mlp(new[] { 3, 6, 4 }, Activation.Relu, seed: 8);
        var (x, y) = RandomNetworks.ClassificationData(15, 3, 4, seed: 8);
        using var source = new TensorBatchSource(x, y, new[] { 4, 11 });
        var objective = new ModelObjective(model, LossKind.CrossEntropy, source);
        var before = DenseMatrix.Of(new HessianOperator(objective));
        Tensor fBefore;
        using (no_grad()) fBefore = model.forward(x).clone();
        double traceBefore = before.trace().item<double>();

        var p = objective.Parameters; // fc0.weight, fc0.bias, fc1.weight, fc1.bias
        using (no_grad()) { p[0].mul_(a); p[1].mul_(a); p[2].div_(a); }
        var after = DenseMatrix.Of(new HessianOperator(objective));
        Tensor fAfter;
        using (no_grad()) fAfter = model.forward(x);
        Assert.That(fAfter.allclose(fBefore, rtol: 1e-10, atol: 1e-12), Is.True, "The rescaling must not change the function.");

        var scale = cat(new[] { full(p[0].numel() + p[1].numel(), a, dtype: ScalarType.Float64), full(p[2].numel(), 1 / a, dtype: ScalarType.Float64), ones(p[3].numel(), dtype: ScalarType.Float64) });
        var dInv = diag(1.0 / scale);
        var predicted = dInv.mm(before).mm(dInv);
        Assert.That(after.allclose(predicted, rtol: 1e-8, atol: 1e-10), Is.True, $"max |diff| = {(after - predicted).abs().max().item<double>()}");
        if (a > 1) Assert.That(after.trace().item<double>(), Is.GreaterThan(traceBefore), "For a > 1 the trace grows (a^2 H22 dominates).");
        if (a < 1) Assert.That(after.trace().item<double>(), Is.GreaterThan(traceBefore), "For a < 1 the trace grows (H11 / a^2 dominates).");
    }

    public static IEnumerable<TestCaseData> FactorisationCases() =>
        Devices.OnEvery([new TestCaseData(3, 4, 1), new TestCaseData(5, 2, 2), new TestCaseData(4, 4, 3)]);

    [TestCaseSource(nameof(FactorisationCases))]
    public void DepthTwoFactorisationTopEigenvalueAtAZeroResidualMinimiser(int p, int q, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        // L = ||M - W2 W1||_F^2. At W2 W1 = M the Hessian is 2 J^T J and lambda_max = 2(||W1||_2^2 + ||W2||_2^2) >= 4 ||M||_2.
        var g = new Generator((ulong)seed);
        var mHost = randn(new long[] { p, q }, dtype: ScalarType.Float64, generator: g);
        var w1Init = randn(new long[] { q, q }, dtype: ScalarType.Float64, generator: g) + 2 * eye(q, dtype: ScalarType.Float64);
        var m = mHost.to(device);
        var w1 = w1Init.clone().to(device).requires_grad_(true);
        var w2 = mHost.mm(linalg.inv(w1Init)).to(device).requires_grad_(true);
        var objective = new FunctionObjective(new[] { w1, w2 }, () => (m - w2.mm(w1)).square().sum());
        var op = new HessianOperator(objective);
        double n1 = linalg.matrix_norm(w1.detach(), 2).item<double>(), n2 = linalg.matrix_norm(w2.detach(), 2).item<double>();
        double expected = 2 * (n1 * n1 + n2 * n2);
        using var top = new LanczosEigensolver { Tolerance = 1e-10, Seed = seed }.Solve(op, 1);
        Assert.That(top.Values[0], Is.EqualTo(expected).Within(1e-7).Percent);
        Assert.That(linalg.eigvalsh(DenseMatrix.Of(op)).max().item<double>(), Is.EqualTo(expected).Within(1e-8).Percent);
        Assert.That(top.Values[0], Is.GreaterThanOrEqualTo(4 * linalg.matrix_norm(m, 2).item<double>() * (1 - 1e-9)));
    }

    [TestCase(2, 3.0, 1)]
    [TestCase(3, -2.0, 2)]
    [TestCase(5, 1.5, 3)]
    public void ScalarChainTopEigenvalue(int depth, double target, int seed)
    {
        using var scope = NewDisposeScope();
        // L = (m - w_L ... w_1)^2 at w_L ... w_1 = m: lambda_max = 2 m^2 sum_i 1 / w_i^2.
        var rng = new Random(seed);
        var w = Enumerable.Range(0, depth - 1).Select(_ => 0.5 + rng.NextDouble()).ToList();
        w.Add(target / w.Aggregate(1.0, (acc, v) => acc * v));
        var x = tensor(w.ToArray(), dtype: ScalarType.Float64).requires_grad_(true);
        var objective = new FunctionObjective(new[] { x }, () => (target - x.prod()).square());
        double expected = 2 * target * target * w.Sum(v => 1 / (v * v));
        var dense = DenseMatrix.Of(new HessianOperator(objective));
        Assert.That(linalg.eigvalsh(dense).max().item<double>(), Is.EqualTo(expected).Within(1e-9).Percent);
        // Minimum over the chain, 2 L |m|^(2 - 2/L), is reached only when every |w_i| = |m|^(1/L).
        Assert.That(expected, Is.GreaterThanOrEqualTo(2 * depth * Math.Pow(Math.Abs(target), 2 - 2.0 / depth) * (1 - 1e-12)));
    }

    public static IEnumerable<TestCaseData> ReluSeeds() => Devices.OnEvery([new TestCaseData(1), new TestCaseData(2)]);

    [TestCaseSource(nameof(ReluSeeds))]
    public void OneHiddenLayerReluHessianDiagonalEqualsGaussNewtonDiagonal(int seed, Device device)
    {
        using var scope = NewDisposeScope();
        // A one-hidden-layer ReLU net is bilinear in (W1, W2) between kinks, so d^2 f / d theta_i^2 = 0 and the
        // Hessian's diagonal is the Gauss–Newton diagonal: tr H = tr G exactly, an exact target for Hutchinson.
        var model = RandomNetworks.Mlp(new[] { 4, 10, 3 }, Activation.Relu, seed).to(device);
        var (x, y) = RandomNetworks.ClassificationData(40, 4, 3, seed);
        using var source = new TensorBatchSource(x, y, new[] { 13, 27 });
        var objective = new ModelObjective(model, LossKind.CrossEntropy, source);
        var h = DenseMatrix.Of(new HessianOperator(objective));
        var gn = DenseMatrix.Of(new GaussNewtonOperator(objective));
        Assert.That(h.diagonal().allclose(gn.diagonal(), rtol: 1e-8, atol: 1e-12), Is.True);
        Assert.That((h - gn).abs().max().item<double>(), Is.GreaterThan(1e-6), "Off the diagonal H and G differ (the check is not vacuous).");
        double exactTrace = gn.trace().item<double>();
        var estimate = new HutchinsonTrace { Probes = 400, Seed = seed }.Estimate(new HessianOperator(objective));
        Assert.That(Math.Abs(estimate.Value - exactTrace), Is.LessThanOrEqualTo(3 * estimate.StandardError), $"{estimate.Value} +- {estimate.StandardError} vs {exactTrace}");
        var plus = new HutchPlusPlus { Budget = 60, Seed = seed }.Estimate(new HessianOperator(objective));
        Assert.That(Math.Abs(plus.Value - exactTrace), Is.LessThanOrEqualTo(3 * plus.StandardError + 1e-9), $"Hutch++ {plus.Value} +- {plus.StandardError} vs {exactTrace}");
        Assert.That(ExactTrace.Compute(new HessianOperator(objective)).Value, Is.EqualTo(exactTrace).Within(1e-8).Percent);
    }
}
