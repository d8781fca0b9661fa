using NUnit.Framework;
using Reproduce.Training.Models;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Models;

[TestFixture, Category("Unit")]
public class ModelTests
{
    private static IEnumerable<TestCaseData> Specs()
    {
        yield return new TestCaseData(ModelSpec.ForMlp([784, 32, 10]), new long[] { 784 }).SetName("Mlp");
        yield return new TestCaseData(ModelSpec.LeNet5(), new long[] { 1, 28, 28 }).SetName("LeNet5 on 28x28");
        yield return new TestCaseData(ModelSpec.LeNet5(channels: 3, side: 32), new long[] { 3, 32, 32 }).SetName("LeNet5 on 32x32x3");
        yield return new TestCaseData(ModelSpec.SmallResNet(), new long[] { 1, 28, 28 }).SetName("SmallResNet");
        yield return new TestCaseData(ModelSpec.ResNet18(side: 8), new long[] { 3, 8, 8 }).SetName("ResNet18 on a tiny input");
    }

    [TestCaseSource(nameof(Specs))]
    public void LogitsAreTheClassifierOfTheFeatures(ModelSpec spec, long[] sample)
    {
        using var scope = NewDisposeScope();
        using var model = spec.Build(seed: 3);
        model.eval();
        var x = randn([3, .. sample], generator: new Generator(1));
        var logits = model.forward(x);
        var features = model.Features(x);
        Assert.That(logits.shape, Is.EqualTo(new long[] { 3, spec.Classes }));
        Assert.That(features.shape, Is.EqualTo(new long[] { 3, model.Classifier.in_features }));
        Assert.That(logits.allclose(model.Classifier.forward(features)), Is.True);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.That(names, Does.Contain("classifier.weight").And.Contain("classifier.bias"));
        Assert.That(names.Count(n => n.StartsWith("classifier.", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public void SameSeedSameInitialWeightsAndSpecRoundTripsThroughJson()
    {
        using var scope = NewDisposeScope();
        var spec = ModelSpec.SmallResNet();
        var again = ModelSpec.FromJson(spec.ToJson());
        Assert.That(again, Is.EqualTo(spec));
        using var a = spec.Build(5);
        using var b = again.Build(5);
        using var c = spec.Build(6);
        Assert.That(a.parameters().Zip(b.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()), Is.True);
        Assert.That(a.parameters().Zip(c.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()), Is.False);
        Assert.That(a.HasBatchNorm, Is.True);
    }

    [Test]
    public void ResNet18HasTheUsualParameterCount()
    {
        // CIFAR ResNet-18 with a 10-way classifier has 11,173,962 parameters (the figure quoted across the SAM literature).
        using var model = ModelSpec.ResNet18().Build(0);
        Assert.That(model.parameters().Sum(p => p.numel()), Is.EqualTo(11_173_962));
    }

    [Test]
    public void BadSpecsNameTheProblem()
    {
        Assert.That(() => (new ModelSpec { Kind = "vgg", InputShape = [3, 32, 32], Classes = 10 }).Build(0),
            Throws.ArgumentException.With.Message.Contains("unknown kind 'vgg'").And.Message.Contains("mlp, lenet, resnet"));
        Assert.That(() => (ModelSpec.ForMlp([4, 3]) with { Activation = "gelu" }).Build(0),
            Throws.ArgumentException.With.Message.Contains("unknown activation 'gelu'"));
        Assert.That(() => (ModelSpec.LeNet5() with { InputShape = [784] }).Build(0),
            Throws.ArgumentException.With.Message.Contains("square image"));
    }
}
