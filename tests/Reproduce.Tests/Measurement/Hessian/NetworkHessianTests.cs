using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Hessian;

/// <summary>
/// The operators on real (small, random) networks in float64, against independent oracles: the dense
/// autograd Hessian of the whole data set in one batch, central finite differences of the gradient, and
/// J^T H J built from a dense Jacobian. Data are split into batches of DIFFERENT sizes (curvlinops' trick):
/// an operator that averages batch means instead of samples fails here. The operator-against-oracle checks run on
/// every available device (Support/Devices): the model is moved there, the batch source keeps the data in host
/// memory (so the operators' batch placement is exercised), and the oracle is computed on the device.
/// </summary>
[TestFixture, Category("Unit")]
public class NetworkHessianTests
{
    public static IEnumerable<TestCaseData> Networks()
    {
        // widths, activation, cross-entropy?, samples, seed
        yield return new TestCaseData(new[] { 3, 5, 4 }, Activation.Tanh, true, 11, 1).SetName("Tanh 3-5-4 cross-entropy");
        yield return new TestCaseData(new[] { 2, 6, 6, 3 }, Activation.Tanh, true, 13, 2).SetName("Tanh 2-6-6-3 cross-entropy");
        yield return new TestCaseData(new[] { 4, 7, 2 }, Activation.Tanh, false, 9, 3).SetName("Tanh 4-7-2 MSE");
        yield return new TestCaseData(new[] { 3, 8, 3 }, Activation.Relu, true, 12, 4).SetName("ReLU 3-8-3 cross-entropy");
        yield return new TestCaseData(new[] { 2, 5, 4, 2 }, Activation.Relu, false, 10, 5).SetName("ReLU 2-5-4-2 MSE");
        yield return new TestCaseData(new[] { 5, 3, 3, 3, 4 }, Activation.Tanh, true, 8, 6).SetName("Tanh 5-3-3-3-4 cross-entropy");
    }

    public static IEnumerable<TestCaseData> NetworksOnEveryDevice() => Devices.OnEvery(Networks());

    /// <summary>
    /// The model (seeded on the CPU) moved to <paramref name="device"/> (the CPU when null), the data on that device
    /// for the oracles, and a batch source over the same data in host memory.
    /// </summary>
    private static (nn.Module<Tensor, Tensor> Model, Tensor X, Tensor Y, TensorBatchSource Source, ModelObjective Objective) Setup(int[] widths, Activation act, bool ce, int n, int seed, Device? device = null)
    {
        device ??= CPU;
        var model = RandomNetworks.Mlp(widths, act, seed).to(device);
        var (x, y) = ce ? RandomNetworks.ClassificationData(n, widths[0], widths[^1], seed) : RandomNetworks.RegressionData(n, widths[0], widths[^1], seed);
        var source = new TensorBatchSource(x, y, RandomNetworks.UnevenBatches(n, seed));
        var objective = new ModelObjective(model, ce ? LossKind.CrossEntropy : LossKind.MeanSquaredError, source);
        return (model, x.to(device), y.to(device), source, objective);
    }

    [TestCaseSource(nameof(NetworksOnEveryDevice))]
    public void HessianOperatorEqualsDenseAutogradHessian(int[] widths, Activation act, bool ce, int n, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var (model, x, y, source, objective) = Setup(widths, act, ce, n, seed, device);
        using var _ = source;
        Assert.That(source.BatchCount, Is.GreaterThan(1));
        var dense = DenseMatrix.Of(new HessianOperator(objective));
        Assert.That(Devices.IsOn(dense, device) && dense.dtype == ScalarType.Float64, Is.True, $"the dense matrix is {dense.dtype} on {dense.device}");
        var oracle = AutogradOracle.DenseHessian(() => AutogradOracle.FullLoss(model, x, y, ce), objective.Parameters);
        Assert.That(dense.allclose(oracle, rtol: 1e-5, atol: 1e-8), Is.True, $"max |diff| = {(dense - oracle).abs().max().item<double>()}");
        Assert.That(dense.allclose(dense.t(), rtol: 1e-8, atol: 1e-10), Is.True, "The Hessian must be symmetric.");
    }

    [TestCaseSource(nameof(NetworksOnEveryDevice))]
    public void ObjectiveValueIsTheMeanOverAllSamples(int[] widths, Activation act, bool ce, int n, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var (model, x, y, source, objective) = Setup(widths, act, ce, n, seed, device);
        using var _ = source;
        double expected;
        using (no_grad()) expected = AutogradOracle.FullLoss(model, x, y, ce).item<double>();
        Assert.That(objective.Value(), Is.EqualTo(expected).Within(1e-12).Percent);
    }

    [TestCase(new[] { 3, 5, 4 }, true, 11, 1)]
    [TestCase(new[] { 4, 6, 6, 2 }, false, 9, 2)]
    public void HessianVectorProductMatchesCentralFiniteDifferences(int[] widths, bool ce, int n, int seed)
    {
        using var scope = NewDisposeScope();
        var (model, x, y, source, objective) = Setup(widths, Activation.Tanh, ce, n, seed);
        using var _ = source;
        var op = new HessianOperator(objective);
        var v = randn(objective.Dimension, dtype: ScalarType.Float64, generator: new Generator(7));
        var hv = op.Apply(v);
        // (grad L(theta + h v) - grad L(theta - h v)) / 2h = H v + O(h^2).
        const double h = 1e-5;
        var theta = ParameterVector.Flatten(objective.Parameters).detach().clone();
        Tensor GradAt(Tensor point)
        {
            using (no_grad())
            {
                var parts = ParameterVector.Unflatten(point, objective.Parameters);
                for (int i = 0; i < parts.Length; i++) objective.Parameters[i].copy_(parts[i]);
            }
            return AutogradOracle.Gradient(() => AutogradOracle.FullLoss(model, x, y, ce), objective.Parameters);
        }
        var fd = (GradAt(theta + h * v) - GradAt(theta - h * v)) / (2 * h);
        GradAt(theta);
        Assert.That(hv.allclose(fd, rtol: 1e-5, atol: 1e-7), Is.True, $"max |Hv - FD| = {(hv - fd).abs().max().item<double>()}");
    }

    [TestCaseSource(nameof(NetworksOnEveryDevice))]
    public void GaussNewtonOperatorEqualsDenseJacobianProduct(int[] widths, Activation act, bool ce, int n, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var (model, x, y, source, objective) = Setup(widths, act, ce, n, seed, device);
        using var _ = source;
        var dense = DenseMatrix.Of(new GaussNewtonOperator(objective));
        Assert.That(Devices.IsOn(dense, device) && dense.dtype == ScalarType.Float64, Is.True, $"the dense matrix is {dense.dtype} on {dense.device}");
        // Oracle: G = (1/N) sum_i J_i^T H_i J_i with a dense Jacobian and the output-space loss Hessian.
        int c = widths[^1];
        var jac = AutogradOracle.Jacobian(model, x, objective.Parameters).reshape(n, c, -1);
        Tensor f;
        using (no_grad()) f = model.forward(x);
        var expected = zeros(objective.Dimension, objective.Dimension, dtype: ScalarType.Float64, device: device);
        for (int i = 0; i < n; i++)
        {
            Tensor hOut;
            if (ce) { var p = nn.functional.softmax(f[i], 0); hOut = diag(p) - p.outer(p); }
            else hOut = eye(c, dtype: ScalarType.Float64, device: device) * (2.0 / c);
            expected += jac[i].t().mm(hOut).mm(jac[i]);
        }
        expected /= n;
        Assert.That(dense.allclose(expected, rtol: 1e-5, atol: 1e-8), Is.True, $"max |diff| = {(dense - expected).abs().max().item<double>()}");
        var eig = linalg.eigvalsh(dense);
        Assert.That(eig.min().item<double>(), Is.GreaterThan(-1e-10), "The Gauss–Newton matrix must be positive semi-definite.");
    }

    [Test]
    public void ParameterSubsetGivesTheMatchingHessianBlock()
    {
        using var scope = NewDisposeScope();
        var (model, x, y, source, _) = Setup(new[] { 3, 5, 4 }, Activation.Tanh, true, 11, 9);
        using var __ = source;
        var full = new ModelObjective(model, LossKind.CrossEntropy, source);
        var classifier = new ModelObjective(model, LossKind.CrossEntropy, source, new[] { "fc1.weight", "fc1.bias" });
        var dense = DenseMatrix.Of(new HessianOperator(full));
        var block = DenseMatrix.Of(new HessianOperator(classifier));
        long offset = full.Dimension - classifier.Dimension; // fc1 comes last in named_parameters order
        var expected = dense.narrow(0, offset, classifier.Dimension).narrow(1, offset, classifier.Dimension);
        Assert.That(block.allclose(expected, rtol: 1e-10, atol: 1e-12), Is.True);
    }

    [Test]
    public void HessianVectorProductsAreDeterministic()
    {
        using var scope = NewDisposeScope();
        var (_, _, _, source, objective) = Setup(new[] { 3, 5, 4 }, Activation.Relu, true, 11, 3);
        using var __ = source;
        var op = new HessianOperator(objective);
        var v = randn(objective.Dimension, dtype: ScalarType.Float64, generator: new Generator(1));
        Assert.That(op.Apply(v).eq(op.Apply(v)).all().item<bool>(), Is.True, "Two HVPs with the same input must be bitwise identical.");
        Assert.That(op.ApplyCount, Is.EqualTo(2));
    }
}
