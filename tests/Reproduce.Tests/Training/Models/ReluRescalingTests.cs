using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Tests.Support;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Models;

/// <summary>
/// Dinh et al.'s T_a on the suite's own MLP, against the closed forms (protocol.md section 5): the function is
/// unchanged, and with D = diag(a on the scaled-up layer's weight and bias, 1/a on the next layer's weight, 1
/// elsewhere) the Hessian at the rescaled point is D^-1 H D^-1 entry by entry: the first block divided by a^2, the
/// second's weight block multiplied by a^2, the cross block unchanged. Dense Hessians of a float64 net with two hidden
/// layers, both pairs (hidden-hidden and hidden-classifier).
/// </summary>
[TestFixture, Category("Unit")]
public class ReluRescalingTests
{
    private static FeatureNetwork Net() => ((FeatureNetwork)new Mlp([5, 6, 4, 3], seed: 11).to(ScalarType.Float64));

    [TestCase(null, 10.0, "features.fc1", "classifier")]
    [TestCase(0, 0.3, "features.fc0", "features.fc1")]
    public void TheFunctionIsKeptAndTheHessianIsDInverseHDInverse(int? layer, double a, string first, string second)
    {
        using var scope = NewDisposeScope();
        var model = Net();
        model.eval();
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using var scaled = ReluRescaling.Rescale(model, a, layer);
        Assert.That(ReluRescaling.Layers(model.Spec, layer), Is.EqualTo((first, second)));
        Assert.That(model.parameters().Zip(before).All(p => p.First.eq(p.Second).all().item<bool>()), Is.True, "the model itself is not touched");
        Assert.That(scaled.named_parameters().Single(p => p.name == $"{first}.weight").parameter.allclose(model.named_parameters().Single(p => p.name == $"{first}.weight").parameter * a, rtol: 1e-15, atol: 0), Is.True);

        var (x, y) = RandomNetworks.ClassificationData(30, 5, 3, 4);
        Assert.That(scaled.forward(x).allclose(model.forward(x), rtol: 1e-12, atol: 1e-13), Is.True, "relu(a z) = a relu(z): same logits");

        using var source = TensorBatchSource.Uniform(x, y, 10);
        var h = DenseMatrix.Of(new HessianOperator(new ModelObjective(model, LossKind.CrossEntropy, source)));
        var hScaled = DenseMatrix.Of(new HessianOperator(new ModelObjective(scaled, LossKind.CrossEntropy, source)));
        // d_i per parameter entry, in the operator's (named_parameters) order.
        var d = cat([.. model.named_parameters().Select(p => full(p.parameter.numel(),
            p.name == $"{first}.weight" || p.name == $"{first}.bias" ? a : p.name == $"{second}.weight" ? 1 / a : 1.0, dtype: ScalarType.Float64))]);
        var predicted = h / outer(d, d);
        double scale = hScaled.abs().max().item<double>();
        Assert.That((hScaled - predicted).abs().max().item<double>(), Is.LessThan(1e-9 * scale), "H' = D^-1 H D^-1");
        Assert.That((hScaled - h).abs().max().item<double>(), Is.GreaterThan(1e-3 * scale), "and H' is not H: the Hessian is not invariant");
        // The trace as the closed form writes it: Tr' = Tr_first / a^2 + a^2 Tr_second + the rest.
        var diag = h.diagonal();
        double trFirst = diag.masked_select(d.eq(a)).sum().item<double>(), trSecond = diag.masked_select(d.eq(1 / a)).sum().item<double>(), trRest = diag.masked_select(d.eq(1.0)).sum().item<double>();
        Assert.That(hScaled.diagonal().sum().item<double>(), Is.EqualTo(trFirst / (a * a) + a * a * trSecond + trRest).Within(1e-9).Percent);
    }

    [Test]
    public void OnlyAReluMlpWithAHiddenLayerAndAPositiveFactorIsRescaled()
    {
        using var tanh = new Mlp([5, 6, 3], "tanh");
        Assert.That(() => ReluRescaling.Rescale(tanh, 2), Throws.ArgumentException.With.Message.Contains("not positively homogeneous"));
        using var linear = new Mlp([5, 3]);
        Assert.That(() => ReluRescaling.Rescale(linear, 2), Throws.ArgumentException.With.Message.Contains("no hidden layer"));
        using var mlp = new Mlp([5, 6, 3]);
        Assert.That(() => ReluRescaling.Rescale(mlp, 0), Throws.ArgumentException.With.Message.Contains("must be positive and finite"));
        Assert.That(() => ReluRescaling.Rescale(mlp, double.NaN), Throws.ArgumentException.With.Message.Contains("must be positive and finite"));
        Assert.That(() => ReluRescaling.Rescale(mlp, 2, layer: 1), Throws.ArgumentException.With.Message.Contains("hidden layer 1 does not exist"));
        using var lenet = ModelSpec.LeNet5().Build(0);
        Assert.That(() => ReluRescaling.Rescale(lenet, 2), Throws.ArgumentException.With.Message.Contains("only an MLP"));
    }
}
