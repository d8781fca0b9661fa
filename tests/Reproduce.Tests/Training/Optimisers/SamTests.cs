using NUnit.Framework;
using Reproduce.Training.Optimisers;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Optimisers;

[TestFixture, Category("Unit")]
public class SamTests
{
    [Test]
    public void OneSamStepEqualsTheHandComputedStepOnAQuadratic()
    {
        using var scope = NewDisposeScope();
        // L(w) = 1/2 w^T A w: g = A w, eps = rho g / ||g||, w' = w - lr A (w + eps).
        var a = tensor(new double[] { 3, 1, 1, 2 }, new long[] { 2, 2 });
        var w0 = tensor(new double[] { 1.0, -2.0 });
        var w = new TorchSharp.Modules.Parameter(w0.clone(), true);
        double lr = 0.1, rho = 0.05;
        var sam = new Sam(new Tensor[] { w }, optim.SGD(new[] { w }, lr), rho);
        sam.Step(() => 0.5 * w.dot(a.mv(w)));
        var g = a.mv(w0);
        var eps = rho * g / g.norm();
        var expected = w0 - lr * a.mv(w0 + eps);
        Assert.That(w.detach().allclose(expected, rtol: 1e-12, atol: 1e-12), Is.True, $"{string.Join(", ", w.detach().data<double>().ToArray())} vs {string.Join(", ", expected.data<double>().ToArray())}");
        // And it differs from a plain gradient step (the check is not vacuous).
        Assert.That(w.detach().allclose(w0 - lr * g, rtol: 1e-6, atol: 1e-9), Is.False);
    }

    [Test]
    public void RhoMustBePositive()
    {
        var w = new TorchSharp.Modules.Parameter(zeros(2), true);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sam(new Tensor[] { w }, optim.SGD(new[] { w }, 0.1), 0));
    }
}
