using NUnit.Framework;
using Reproduce.Measurement;
using Reproduce.Measurement.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Autograd;

/// <summary>
/// Each case here would terminate the test host if it reached libtorch's native grad. Running them in-process
/// is itself the proof: an abort would kill this run and every count in it.
/// </summary>
[TestFixture, Category("Unit")]
public class AutogradGuardTests
{
    [Test]
    public void NonScalarOutputIsAnArgumentException()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, dtype: ScalarType.Float64).requires_grad_(true);
        var ex = Assert.Throws<ArgumentException>(() => AutogradGuard.Gradient(x * 2, new[] { x }));
        Assert.That(ex!.Message, Does.Contain("scalar output"));
    }

    [Test]
    public void UnusedInputGetsAnExactZeroGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2.0 }).requires_grad_(true);
        var unused = tensor(new[] { 3.0 }).requires_grad_(true);
        var g = AutogradGuard.Gradient((x * x).sum(), new[] { x, unused });
        Assert.That(g[0].data<double>().ToArray(), Is.EqualTo(new[] { 2.0, 4.0 }));
        Assert.That(g[1].data<double>().ToArray(), Is.EqualTo(new[] { 0.0 }));
    }

    [Test]
    public void SecondGradientThroughTheSameGraphWorks()
    {
        // Plain torch.autograd.grad frees the graph here and the second call aborts the process.
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2.0 }).requires_grad_(true);
        var y = (x * x).sum();
        var first = AutogradGuard.Gradient(y, new[] { x })[0].data<double>().ToArray();
        var second = AutogradGuard.Gradient(y, new[] { x })[0].data<double>().ToArray();
        Assert.That(second, Is.EqualTo(first));
        Assert.That(first, Is.EqualTo(new[] { 2.0, 4.0 }));
    }

    [Test]
    public void DoubleBackwardRetainsTheGraph()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0, 2.0 }).requires_grad_(true);
        var y = (x * x * x).sum();
        var g = AutogradGuard.Gradient(y, new[] { x }, createGraph: true);
        var h = AutogradGuard.Gradient(g[0].sum(), new[] { x });   // d/dx sum(3x^2) = 6x
        Assert.That(h[0].data<double>().ToArray(), Is.EqualTo(new[] { 6.0, 12.0 }));
        var again = AutogradGuard.Gradient(y, new[] { x });          // still allowed: create_graph retained it
        Assert.That(again[0].data<double>().ToArray(), Is.EqualTo(new[] { 3.0, 12.0 }));
    }

    [Test]
    public void NaNOutputIsANonFiniteValueException()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1.0 }).requires_grad_(true);
        Assert.Throws<NonFiniteValueException>(() => AutogradGuard.Gradient(x.sqrt().sum(), new[] { x }));
    }

    [Test]
    public void OutputWithoutGraphOrInputWithoutGradIsRefused()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0 }).requires_grad_(true);
        var plain = tensor(new[] { 1.0 });
        Assert.Throws<InvalidOperationException>(() => AutogradGuard.Gradient(plain.sum(), new[] { x }));
        Assert.Throws<ArgumentException>(() => AutogradGuard.Gradient((x * 2).sum(), new[] { plain }));
        Assert.Throws<ArgumentException>(() => AutogradGuard.Gradient((x * 2).sum(), Array.Empty<Tensor>()));
    }
}
