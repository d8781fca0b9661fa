using NUnit.Framework;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Models;

/// <summary>
/// PlaneMaxPool2d must be nn.MaxPool2d bit for bit: the output of its planar (channels-last) path without gradients,
/// and with gradients the output, the gradient (where the argmax routes it) and the Hessian-vector product that
/// takes the pool's backward and double backward. Inputs with many ties (ReLU zeros, and small integers so that positive
/// maxima tie too) make the tie-breaking visible: routing a gradient to another element of a tied window changes the
/// gradient tensor.
/// </summary>
[TestFixture, Category("Unit")]
public class PlaneMaxPool2dTests
{
    private static IEnumerable<TestCaseData> Inputs()
    {
        yield return new TestCaseData(new long[] { 50, 6, 28, 28 }, "relu").SetName("LeNet conv0 activations (ReLU zeros tie)");
        yield return new TestCaseData(new long[] { 50, 16, 10, 10 }, "relu").SetName("LeNet conv1 activations");
        yield return new TestCaseData(new long[] { 7, 3, 9, 11 }, "normal").SetName("odd sides (floor mode drops the last row and column)");
        yield return new TestCaseData(new long[] { 4, 5, 8, 8 }, "integers").SetName("small integers (positive maxima tie)");
        yield return new TestCaseData(new long[] { 1, 1, 6, 6 }, "integers").SetName("one image, one channel");
    }

    private static Tensor Input(long[] shape, string kind, ScalarType dtype)
    {
        var g = new Generator(17);
        return kind switch
        {
            "relu" => nn.functional.relu(randn(shape, dtype: dtype, generator: g)),
            "integers" => randint(0, 3, shape, generator: g).to(dtype),
            _ => randn(shape, dtype: dtype, generator: g),
        };
    }

    [TestCaseSource(nameof(Inputs))]
    public void OutputGradientAndSecondDerivativeEqualMaxPool2dBitForBit(long[] shape, string kind)
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            using var scope = NewDisposeScope();
            var source = Input(shape, kind, dtype);
            var reference = nn.MaxPool2d(2);
            var plane = new PlaneMaxPool2d(2);
            var (o1, g1, h1) = Derivatives(reference, source);
            var (o2, g2, h2) = Derivatives(plane, source);
            using (no_grad())
            {
                var planar = plane.forward(source);
                Assert.That(planar.shape, Is.EqualTo(o1.shape), $"{dtype}: planar shape");
                Assert.That(planar.eq(o1).all().item<bool>(), Is.True, $"{dtype}: planar output (no gradients)");
                Assert.That(planar.is_contiguous(), Is.True, $"{dtype}: the planar output is in the usual (N, C, H, W) layout");
            }
            Assert.That(o2.shape, Is.EqualTo(o1.shape), $"{dtype}: shape");
            Assert.That(o2.eq(o1).all().item<bool>(), Is.True, $"{dtype}: output");
            Assert.That(o2.is_contiguous(), Is.True, $"{dtype}: the output is in the usual (N, C, H, W) layout");
            Assert.That(g2.eq(g1).all().item<bool>(), Is.True, $"{dtype}: gradient");
            Assert.That(h2.eq(h1).all().item<bool>(), Is.True, $"{dtype}: second derivative");
        }
    }

    /// <summary>
    /// The pool's output p(x); and, for the loss L(w, m) = sum(u * m * p(x * w)) with w = 1 (so x * w is x bit for bit)
    /// and m a random tensor of the output's shape, both parameters: the gradient in w (x times the pool's backward of
    /// u * m: where the argmax routes it) and the Hessian-vector product d/d(w, m) of (grad_w . v + grad_m . v2), whose
    /// graph runs through the pool's backward and double backward as every Hessian-vector product through a LeNet does.
    /// u, v, v2, m are fixed random tensors.
    /// </summary>
    private static (Tensor Output, Tensor Gradient, Tensor Second) Derivatives(nn.Module<Tensor, Tensor> pool, Tensor source)
    {
        var w = ones_like(source).requires_grad_(true);
        var output = pool.forward(source * w);
        var u = randn(output.shape, dtype: source.dtype, generator: new Generator(3));
        var m = randn(output.shape, dtype: source.dtype, generator: new Generator(5)).requires_grad_(true);
        var grads = torch.autograd.grad([(output * u * m).sum()], [w, m], retain_graph: true, create_graph: true);
        var v = randn(source.shape, dtype: source.dtype, generator: new Generator(4));
        var v2 = randn(output.shape, dtype: source.dtype, generator: new Generator(6));
        var hvp = torch.autograd.grad([(grads[0] * v).sum() + (grads[1] * v2).sum()], [w, m], allow_unused: true);
        var parts = hvp.Select((h, i) => h.Handle == IntPtr.Zero ? zeros_like(i == 0 ? w : m) : h).Select(h => h.flatten());
        return (output.detach(), grads[0].detach(), cat(parts.ToArray(), 0).detach());
    }

    [Test]
    public void LeNetUsesItAndKeepsItsParameterNames()
    {
        using var scope = NewDisposeScope();
        var model = (FeatureNetwork)ModelSpec.LeNet5().Build(0);
        Assert.That(model.named_modules().Count(m => m.module is PlaneMaxPool2d), Is.EqualTo(2));
        Assert.That(model.named_parameters().Select(p => p.name), Is.EqualTo(new[]
        {
            "features.conv0.weight", "features.conv0.bias", "features.conv1.weight", "features.conv1.bias",
            "features.fc0.weight", "features.fc0.bias", "features.fc1.weight", "features.fc1.bias", "classifier.weight", "classifier.bias",
        }), "checkpoints store parameters by name; the pools hold none");
    }

    [Test]
    public void ANonImageInputIsRefusedWithAMessage()
    {
        using var scope = NewDisposeScope();
        Assert.That(() => new PlaneMaxPool2d(2).forward(zeros(3, 4)), Throws.ArgumentException.With.Message.Contains("(N, C, H, W)"));
        Assert.That(() => new PlaneMaxPool2d(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
