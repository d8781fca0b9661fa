using NUnit.Framework;
using Reproduce.Training;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Training.Optimisers;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Optimisers;

[TestFixture, Category("Unit")]
public class OptimiserTests
{
    [Test]
    public void FirstAdamStepMovesEachWeightByTheLearningRateAgainstItsGradientSign()
    {
        // Adam's first bias-corrected step: m_hat = g, v_hat = g^2, so w1 = w0 - lr g / (|g| + eps).
        using var scope = NewDisposeScope();
        var w0 = tensor(new double[] { 1.0, -2.0, 0.5 });
        var w = new TorchSharp.Modules.Parameter(w0.clone(), true);
        var opt = OptimiserRegistry.Create("adam", [w], new OptimiserSettings(0.01));
        var target = tensor(new double[] { 0.0, 1.0, 3.0 });
        opt.zero_grad();
        (w - target).square().sum().backward();
        var g = 2 * (w0 - target);
        opt.step();
        var expected = w0 - 0.01 * g / (g.abs() + 1e-8);
        Assert.That(w.detach().allclose(expected, rtol: 1e-10, atol: 1e-12), Is.True);
    }

    [Test]
    public void UnknownOptimiserListsTheValidNames()
    {
        var w = new TorchSharp.Modules.Parameter(zeros(2), true);
        Assert.That(() => OptimiserRegistry.Create("lion", [w], new OptimiserSettings(0.1)),
            Throws.ArgumentException.With.Message.Contains("'lion'").And.Message.Contains("Valid: adam, asam, det-sam, frob-sam, gam, sgd"));
        // Other tests register their own optimisers (sgd-*-test), which sort between sgd and trace-sam.
        Assert.That(() => OptimiserRegistry.Create("lion", [w], new OptimiserSettings(0.1)),
            Throws.ArgumentException.With.Message.Contains(", trace-sam"));
    }

    [Test]
    public void AUserOptimiserIsOneRegistrationLine()
    {
        using var scope = NewDisposeScope();
        OptimiserRegistry.Register(new("sgd-nesterov-test", "SGD with Nesterov momentum 0.9", (ps, s) => optim.SGD(ps, s.LearningRate, momentum: 0.9, nesterov: true)));
        using var data = Circles.Make(40, 0.5, 0.05, seed: 1);
        var a = new Mlp([2, 8, 2], seed: 1);
        var b = new Mlp([2, 8, 2], seed: 1);
        new Trainer().Train(a, data, new TrainerOptions { Epochs = 2, BatchSize = 8, LearningRate = 0.1, Optimiser = "sgd-nesterov-test" });
        new Trainer().Train(b, data, new TrainerOptions { Epochs = 2, BatchSize = 8, LearningRate = 0.1 });
        Assert.That(a.parameters().Zip(b.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()), Is.False);
    }

    [Test]
    public void AnOptimisersOwnParameterTravelsFromTheRecipeToItsFactory()
    {
        using var scope = NewDisposeScope();
        var seen = new List<double>();
        OptimiserRegistry.Register(new("sgd-gain-test", "SGD with its learning rate scaled by a gain", (ps, s) => { seen.Add(s["gain"]); return optim.SGD(ps, s.LearningRate * s["gain"]); })
        {
            ParameterDefaults = new Dictionary<string, double> { ["gain"] = 1 },
        });
        using var data = Circles.Make(40, 0.5, 0.05, seed: 1);
        var recipe = new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 0.1, Optimiser = "sgd-gain-test" };
        new Trainer().Train(new Mlp([2, 8, 2], seed: 1), data, recipe with { OptimiserParameters = new Dictionary<string, double> { ["gain"] = 2.5 } });
        new Trainer().Train(new Mlp([2, 8, 2], seed: 1), data, recipe);
        Assert.That(seen, Is.EqualTo(new[] { 2.5, 1.0 }), "the recipe's value, then the registration's default");
        Assert.That(() => new Trainer().Train(new Mlp([2, 8, 2], seed: 1), data, recipe with { OptimiserParameters = new Dictionary<string, double> { ["gian"] = 2 } }),
            Throws.ArgumentException.With.Message.Contains("optimiser 'sgd-gain-test' has no parameter 'gian'; it has: gain"));
        Assert.That(OptimiserRegistry.All.Single(o => o.Name == "sgd-gain-test").Description, Does.Contain("gain"));
    }

    [Test]
    public void AdamReadsItsEpsilonFromTheParameters()
    {
        // Adam's first step is lr g / (|g| + eps) (see above): with eps = 1 instead of 1e-8 it is visibly shorter.
        using var scope = NewDisposeScope();
        var w0 = tensor(new double[] { 1.0, -2.0, 0.5 });
        var w = new TorchSharp.Modules.Parameter(w0.clone(), true);
        var opt = OptimiserRegistry.Create("adam", [w], new OptimiserSettings(0.01) { OptimiserParameters = new Dictionary<string, double> { ["epsilon"] = 1.0 } });
        var target = tensor(new double[] { 0.0, 1.0, 3.0 });
        opt.zero_grad();
        (w - target).square().sum().backward();
        var g = 2 * (w0 - target);
        opt.step();
        Assert.That(w.detach().allclose(w0 - 0.01 * g / (g.abs() + 1.0), rtol: 1e-10, atol: 1e-12), Is.True);
        Assert.That(() => OptimiserRegistry.Create("adam", [w], new OptimiserSettings(0.01) { OptimiserParameters = new Dictionary<string, double> { ["beta3"] = 0.5 } }),
            Throws.ArgumentException.With.Message.Contains("has no parameter 'beta3'; it has: beta1, beta2, epsilon"));
    }

    [Test]
    public void CosineScheduleHitsItsAnchors()
    {
        Assert.That(LearningRateSchedule.At("cosine", 0.1, 0, 100), Is.EqualTo(0.1).Within(1e-15));
        Assert.That(LearningRateSchedule.At("cosine", 0.1, 50, 100), Is.EqualTo(0.05).Within(1e-15));
        Assert.That(LearningRateSchedule.At("cosine", 0.1, 100, 100), Is.EqualTo(0.0).Within(1e-15));
        Assert.That(LearningRateSchedule.At("constant", 0.1, 77, 100), Is.EqualTo(0.1));
        Assert.That(() => LearningRateSchedule.At("step", 0.1, 0, 1), Throws.ArgumentException.With.Message.Contains("constant, cosine"));
    }

    [Test]
    public void WeightAveragerGivesTheMeanOfTheSnapshots()
    {
        using var scope = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 1, 2 }), true);
        using var swa = new WeightAverager([p]);
        swa.Snapshot();
        using (no_grad()) p.copy_(tensor(new float[] { 3, -4 }));
        swa.Snapshot();
        using (no_grad()) p.copy_(tensor(new float[] { 5, 5 }));
        swa.Snapshot();
        swa.Finish();
        Assert.That(p.data<float>().ToArray(), Is.EqualTo(new float[] { 3, 1 }));
    }

    [Test]
    public void BatchNormStatisticsBecomeTheDataAverage()
    {
        // A lone BatchNorm layer: after recomputation its running mean is the mean of the per-batch means.
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.BatchNorm1d(3));
        var x = randn(new long[] { 40, 3 }, generator: new Generator(4)) * 2 + 1;
        using var data = new Dataset(x, zeros(40, dtype: ScalarType.Int64), "bn");
        BatchNormStatistics.Recompute(model, data, batchSize: 10);
        var bn = (TorchSharp.Modules.BatchNorm1d)model.children().First();
        var expected = x.reshape(4, 10, 3).mean([1]).mean([0]);
        Assert.That(bn.running_mean!.allclose(expected, rtol: 1e-5, atol: 1e-6), Is.True);
        Assert.That(bn.momentum, Is.EqualTo(0.1).Within(1e-12), "momentum restored");
    }

    [Test]
    public void MSharpnessWithTwoMicroBatchesMatchesTheHandComputedStep()
    {
        // L_j(w) = 1/2 ||w - c_j||^2: grad_j = w - c_j, eps_j = rho grad_j / ||grad_j||,
        // step: w' = w - lr * mean_j (w + eps_j - c_j).
        using var scope = NewDisposeScope();
        var w0 = tensor(new double[] { 0.5, -1.0 });
        var c1 = tensor(new double[] { 2.0, 0.0 });
        var c2 = tensor(new double[] { -1.0, 3.0 });
        var w = new TorchSharp.Modules.Parameter(w0.clone(), true);
        double lr = 0.1, rho = 0.3;
        var sam = new Sam([w], optim.SGD([w], lr), rho);
        sam.Step([(() => 0.5 * (w - c1).square().sum(), 0.5), (() => 0.5 * (w - c2).square().sum(), 0.5)]);
        Tensor Eps(Tensor c) => rho * (w0 - c) / (w0 - c).norm();
        var expected = w0 - lr * 0.5 * ((w0 + Eps(c1) - c1) + (w0 + Eps(c2) - c2));
        Assert.That(w.detach().allclose(expected, rtol: 1e-12, atol: 1e-12), Is.True);
        // One perturbation for the whole batch differs (m-sharpness is not a no-op here).
        var v = new TorchSharp.Modules.Parameter(w0.clone(), true);
        new Sam([v], optim.SGD([v], lr), rho).Step(() => 0.5 * (0.5 * (v - c1).square().sum() + 0.5 * (v - c2).square().sum()));
        Assert.That(v.detach().allclose(expected, rtol: 1e-6, atol: 1e-9), Is.False);
    }
}
