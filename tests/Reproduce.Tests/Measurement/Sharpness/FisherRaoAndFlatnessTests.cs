using NUnit.Framework;
using Reproduce.Measurement;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Safety;
using Reproduce.Measurement.Sharpness;
using Reproduce.Tests.Support;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Sharpness;

[TestFixture, Category("Unit")]
public class FisherRaoNormTests
{
    [TestCase(new[] { 3, 5, 4 }, 1)]
    [TestCase(new[] { 4, 6, 5, 3 }, 2)]
    [TestCase(new[] { 2, 7, 7, 7, 4 }, 3)]
    public void EqualsTheEulerIdentityOracleOnBiasFreeReluNets(int[] widths, int seed)
    {
        // For a bias-free ReLU net with D weight layers, <theta, grad_theta loss_i> = D <dloss_i/df_i, f_i>, so the norm
        // with c = D equals sqrt(mean_i <theta, grad_theta loss_i>^2): computed here by per-sample autograd.
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(widths, Activation.Relu, seed, bias: false);
        var (x, y) = RandomNetworks.ClassificationData(9, widths[0], widths[^1], seed);
        var theta = model.parameters().ToArray();
        double sum = 0;
        for (int i = 0; i < 9; i++)
        {
            var loss = nn.functional.cross_entropy(model.forward(x[i].unsqueeze(0)), y[i].unsqueeze(0));
            var g = torch.autograd.grad([loss], theta);
            double inner = theta.Zip(g).Sum(p => (p.First * p.Second).sum().item<double>());
            sum += inner * inner;
        }
        double oracle = Math.Sqrt(sum / 9);
        using var source = TensorBatchSource.Uniform(x, y, 4);
        var liang = new FisherRaoNorm().Compute(model, source);
        Assert.That(liang.WeightLayers, Is.EqualTo(widths.Length - 1));
        Assert.That(liang.Value, Is.EqualTo(oracle).Within(1e-9).Percent);
        var paper = new FisherRaoNorm { Factor = FisherRaoFactor.PaperCode }.Compute(model, source);
        Assert.That(paper.Value, Is.EqualTo(oracle * widths.Length / (widths.Length - 1)).Within(1e-9).Percent);
    }
}

[TestFixture, Category("Unit")]
public class RelativeFlatnessTests
{
    private static (Mlp Model, Tensor X, Tensor Y) Case(int[] widths, int n, int seed)
    {
        var model = new Mlp(widths, seed: seed);
        model.to(ScalarType.Float64);
        model.eval();
        var (x, y) = RandomNetworks.ClassificationData(n, widths[0], widths[^1], seed);
        return (model, x, y);
    }

    /// <summary>kappa from the dense autograd Hessian of the mean loss w.r.t. the classifier weight, entry by entry.</summary>
    private static double DenseKappa(Mlp model, Tensor x, Tensor y)
    {
        var w = model.Classifier.weight!;
        var h = AutogradOracle.DenseHessian(() => nn.functional.cross_entropy(model.forward(x), y), [w]);
        long k = w.shape[0], m = w.shape[1];
        var g = w.detach().mm(w.detach().t());
        double kappa = 0;
        for (long s = 0; s < k; s++)
            for (long t = 0; t < k; t++)
            {
                double trace = 0;
                for (long j = 0; j < m; j++) trace += h[s * m + j, t * m + j].item<double>();
                kappa += g[s, t].item<double>() * trace;
            }
        return kappa;
    }

    [TestCase(new[] { 4, 6, 3 }, 11, 1)]
    [TestCase(new[] { 5, 8, 7, 4 }, 13, 2)]
    public void ClosedFormEqualsPerEntryAutograd(int[] widths, int n, int seed)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Case(widths, n, seed);
        using var source = new TensorBatchSource(x, y, RandomNetworks.UnevenBatches(n, seed));
        var fm = new FeatureModel(model, model.Features, "classifier.weight");
        var result = new RelativeFlatness { NormaliseFeatures = false }.Compute(fm, source);
        Assert.That(result.Value, Is.EqualTo(DenseKappa(model, x, y)).Within(1e-9).Percent);
    }

    [Test]
    public void FeatureNormalisationEqualsThePapersRescaledModelWithoutMutatingIt()
    {
        // The paper's code divides the last hidden layer's rows (and biases) by sigma_j and multiplies the
        // classifier's columns by sigma_j, in place. Do that to a copy, take the dense kappa, compare.
        using var scope = NewDisposeScope();
        var widths = new[] { 4, 6, 3 };
        var (model, x, y) = Case(widths, 12, 5);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using var source = TensorBatchSource.Uniform(x, y, 5);
        var normalised = new RelativeFlatness().Compute(new FeatureModel(model, model.Features, "classifier.weight"), source);
        Assert.That(model.parameters().Zip(before).All(p => p.First.eq(p.Second).all().item<bool>()), Is.True, "the model must not change");

        var (copy, _, _) = Case(widths, 12, 5);
        Tensor sigma;
        using (no_grad()) sigma = model.Features(x).std(0, unbiased: false);
        var named = copy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            named["features.fc0.weight"].div_(sigma.unsqueeze(1));
            named["features.fc0.bias"].div_(sigma);
            named["classifier.weight"].mul_(sigma.unsqueeze(0));
        }
        Assert.That(copy.forward(x).allclose(model.forward(x), rtol: 1e-10, atol: 1e-12), Is.True, "the rescaling preserves the function");
        Assert.That(normalised.Value, Is.EqualTo(DenseKappa(copy, x, y)).Within(1e-8).Percent);
    }

    [Test]
    public void ThePapersSumOverBatchesGrowsWithTheBatchCount()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Case([4, 6, 3], 24, 3);
        var fm = new FeatureModel(model, model.Features, "classifier.weight");
        using var one = TensorBatchSource.Uniform(x, y, 24);
        using var four = TensorBatchSource.Uniform(x, y, 6);
        var mean1 = new RelativeFlatness().Compute(fm, one).Value;
        var mean4 = new RelativeFlatness().Compute(fm, four).Value;
        var sum4 = new RelativeFlatness { Reduction = BatchReduction.SumOverBatches }.Compute(fm, four).Value;
        Assert.That(mean4, Is.EqualTo(mean1).Within(1e-10).Percent, "the mean does not depend on batching");
        Assert.That(sum4, Is.EqualTo(4 * mean1).Within(1e-10).Percent, "equal batches: the sum is (number of batches) x mean");
    }
}
