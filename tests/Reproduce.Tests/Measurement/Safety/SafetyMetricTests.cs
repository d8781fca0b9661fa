using NUnit.Framework;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Safety;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Safety;

[TestFixture, Category("Unit")]
public class CalibrationTests
{
    private static Predictions Binary(double[] confidenceOfClass0, long[] labels) =>
        new(tensor(confidenceOfClass0.SelectMany(c => new[] { c, 1 - c }).ToArray(), new long[] { confidenceOfClass0.Length, 2 }), tensor(labels));

    [Test]
    public void HandComputedCases()
    {
        using var scope = NewDisposeScope();
        // Confidences 0.91 (right), 0.81 (wrong), 0.62 (right), 0.56 (right): one per bin.
        using var p = Binary([0.91, 0.81, 0.62, 0.56], [0, 1, 0, 0]);
        Assert.That(new ExpectedCalibrationError().Compute(p).Value, Is.EqualTo((0.09 + 0.81 + 0.38 + 0.44) / 4).Within(1e-12));
        // Two in one bin: 0.91 right, 0.92 wrong -> |0.5 - 0.915| with weight 1/2; 0.62 right -> 0.38 with weight 1/2.
        using var q = Binary([0.91, 0.92, 0.62, 0.62], [0, 1, 0, 0]);
        Assert.That(new ExpectedCalibrationError().Compute(q).Value, Is.EqualTo(0.5 * 0.415 + 0.5 * 0.38).Within(1e-12));
        Assert.That(ClassificationMetrics.Accuracy(q), Is.EqualTo(0.75));
        Assert.That(ClassificationMetrics.Brier(q), Is.EqualTo((2 * 0.09 * 0.09 + 2 * 0.92 * 0.92 + 2 * 2 * 0.38 * 0.38) / 4).Within(1e-12));
        Assert.That(ClassificationMetrics.NegativeLogLikelihood(q), Is.EqualTo(-(Math.Log(0.91) + Math.Log(0.08) + 2 * Math.Log(0.62)) / 4).Within(1e-12));
    }

    [Test]
    public void ZeroForAPerfectlyCalibratedConstruction()
    {
        using var scope = NewDisposeScope();
        // Confidence 0.8 with exactly 80% right, confidence 0.6 with exactly 60% right.
        var conf = Enumerable.Repeat(0.8, 10).Concat(Enumerable.Repeat(0.6, 5)).ToArray();
        // (Equal-mass bins of 5 split the tied 0.8 group by sample index, so each half holds one error.)
        long[] labels = [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1];
        using var p = Binary(conf, labels);
        Assert.That(new ExpectedCalibrationError().Compute(p).Value, Is.EqualTo(0).Within(1e-12));
        Assert.That(new ExpectedCalibrationError { Binning = CalibrationBinning.EqualMass, Bins = 3 }.Compute(p).Value, Is.EqualTo(0).Within(1e-12));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void WithinZeroAndOneAndInvariantToSampleOrder(int seed)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        var logits = randn(new long[] { 300, 5 }, dtype: ScalarType.Float64, generator: g) * 3;
        var labels = randint(0, 5, new long[] { 300 }, generator: g);
        var perm = randperm(300, generator: g);
        using var a = Predictions.FromLogits(logits, labels);
        using var b = Predictions.FromLogits(logits.index_select(0, perm), labels.index_select(0, perm));
        foreach (var binning in new[] { CalibrationBinning.EqualWidth, CalibrationBinning.EqualMass })
        {
            var ece = new ExpectedCalibrationError { Binning = binning };
            double va = ece.Compute(a).Value, vb = ece.Compute(b).Value;
            Assert.That(va, Is.InRange(0.0, 1.0));
            Assert.That(vb, Is.EqualTo(va).Within(1e-12), binning.ToString());
        }
    }

    [Test]
    public void BadInputGivesClearErrors()
    {
        using var scope = NewDisposeScope();
        Assert.That(() => new Predictions(zeros(0, 3, dtype: ScalarType.Float64), zeros(0, dtype: ScalarType.Int64)), Throws.ArgumentException.With.Message.Contains("empty"));
        Assert.That(() => new Predictions(full(2, 2, 0.7, dtype: ScalarType.Float64), tensor(new long[] { 0, 1 })), Throws.ArgumentException.With.Message.Contains("sum to 1"));
        Assert.That(() => new Predictions(full(2, 2, 0.5, dtype: ScalarType.Float64), tensor(new long[] { 0, 2 })), Throws.ArgumentException.With.Message.Contains("[0, 1]"));
        Assert.That(() => new Predictions(full(2, 2, 0.5, dtype: ScalarType.Float64), tensor(new long[] { 0, 1, 1 })), Throws.ArgumentException.With.Message.Contains("lengths must match"));
        Assert.That(() => Predictions.FromLogits(tensor(new double[] { double.NaN, 0 }, new long[] { 1, 2 }), tensor(new long[] { 0 })), Throws.TypeOf<Reproduce.Measurement.NonFiniteValueException>());
    }
}

[TestFixture, Category("Unit")]
public class ConsistencyTests
{
    [Test]
    public void DisagreementAndJensenShannonHandCasesAndBounds()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 0, 1, 0, 1 });
        using var a = new Predictions(tensor(new double[] { 1, 0, 0, 1, 1, 0, 0, 1 }, new long[] { 4, 2 }), labels);
        using var b = new Predictions(tensor(new double[] { 0, 1, 0, 1, 1, 0, 0, 1 }, new long[] { 4, 2 }), labels);
        using var c = new Predictions(tensor(new double[] { 0, 1, 1, 0, 0, 1, 1, 0 }, new long[] { 4, 2 }), labels);
        Assert.That(FunctionalConsistency.Disagreement(a, b), Is.EqualTo(0.25));
        Assert.That(FunctionalConsistency.Disagreement(b, a), Is.EqualTo(0.25));
        Assert.That(FunctionalConsistency.Disagreement(a, a), Is.EqualTo(0));
        Assert.That(FunctionalConsistency.Disagreement(a, c), Is.EqualTo(1));
        // One point of four has p = (1, 0) vs q = (0, 1): JS = ln 2 there, 0 elsewhere.
        Assert.That(FunctionalConsistency.JensenShannon(a, b), Is.EqualTo(Math.Log(2) / 4).Within(1e-12));
        Assert.That(FunctionalConsistency.JensenShannon(a, c), Is.EqualTo(Math.Log(2)).Within(1e-12));
        var all = FunctionalConsistency.Compute([a, b, c]);
        Assert.That(all.OrderedPairs, Is.EqualTo(6));
        Assert.That(all.Disagreement, Is.EqualTo((0.25 + 1 + 0.75) * 2 / 6).Within(1e-12));
        Assert.That(() => FunctionalConsistency.Compute([a]), Throws.ArgumentException.With.Message.Contains("at least two"));
    }
}

[TestFixture, Category("Unit")]
public class RobustnessTests
{
    private static readonly ImageFormat Format = new(1, 12, 12, [0.3], [0.4], Flattened: true);

    private static (Mlp Model, Tensor X, Tensor Y) TinyClassifier()
    {
        var model = new Mlp([144, 16, 3], seed: 2);
        model.eval();
        var pixels = rand(new long[] { 30, 1, 12, 12 }, generator: new Generator(4));
        var y = randint(0, 3, new long[] { 30 }, generator: new Generator(5));
        return (model, Format.FromPixels(pixels), y);
    }

    [Test]
    public void AdversarialExamplesStayInTheBallAndThePixelRange()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = TinyClassifier();
        foreach (var attack in new[] { new AdversarialRobustness { Steps = 0 }, new AdversarialRobustness { Steps = 7 } })
        {
            var adv = attack.Perturb(model, Format, x, y, 0.1, new Generator(1));
            var p0 = Format.ToPixels(x); var p1 = Format.ToPixels(adv);
            Assert.That((p1 - p0).abs().max().item<float>(), Is.LessThanOrEqualTo(0.1f + 1e-5f), attack.Attack);
            Assert.That(p1.min().item<float>(), Is.GreaterThanOrEqualTo(-1e-6f));
            Assert.That(p1.max().item<float>(), Is.LessThanOrEqualTo(1 + 1e-6f));
            Assert.That((p1 - p0).abs().max().item<float>(), Is.GreaterThan(0.05f), "the attack moves the input");
        }
    }

    [Test]
    public void EpsilonZeroGivesCleanAccuracyAndAttacksDoNotHelp()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = TinyClassifier();
        using var source = TensorBatchSource.Uniform(x, y, 10);
        using var clean = Predictions.Collect(model, source);
        var r = new AdversarialRobustness { Steps = 5 }.Evaluate(model, source, Format, [0, 0.05, 0.2]);
        Assert.That(r.Entries[0].Accuracy, Is.EqualTo(ClassificationMetrics.Accuracy(clean)).Within(1e-12));
        Assert.That(r.Entries[2].Accuracy, Is.LessThanOrEqualTo(r.Entries[0].Accuracy));
        Assert.That(() => new AdversarialRobustness().Evaluate(model, source, Format, [-0.1]), Throws.ArgumentException);
    }

    [Test]
    public void EveryCorruptionKeepsShapeAndRangeIsSeededAndGrowsWithSeverity()
    {
        using var scope = NewDisposeScope();
        // A smooth bright blob on black, like a Fashion-MNIST item.
        var r = arange(12, dtype: ScalarType.Float32) - 5.5f;
        var blob = (-(r.unsqueeze(0).square() + r.unsqueeze(1).square()) / 12).exp().reshape(1, 1, 12, 12).expand(4, 1, 12, 12).contiguous() * 0.8;
        Assert.That(Corruptions.Suite, Has.Count.GreaterThanOrEqualTo(10));
        foreach (var c in Corruptions.Suite)
        {
            var s1 = c.Corrupt(blob, 1, new Generator(9));
            var s5 = c.Corrupt(blob, 5, new Generator(9));
            var again = c.Corrupt(blob, 5, new Generator(9));
            Assert.That(s5.shape, Is.EqualTo(blob.shape), c.Name);
            Assert.That(s5.min().item<float>() >= 0 && s5.max().item<float>() <= 1, Is.True, c.Name);
            Assert.That(s5.eq(again).all().item<bool>(), Is.True, $"{c.Name} is seeded");
            double d1 = (s1 - blob).abs().mean().item<float>(), d5 = (s5 - blob).abs().mean().item<float>();
            Assert.That(d5, Is.GreaterThan(d1), $"{c.Name}: severity 5 must change the image more than severity 1 ({d5} vs {d1})");
            Assert.That(d1, Is.GreaterThan(0), c.Name);
        }
    }

    [Test]
    public void AnIdentitySuiteGivesCleanAccuracy()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = TinyClassifier();
        using var source = TensorBatchSource.Uniform(x, y, 10);
        var suite = new CorruptionRobustness { Suite = [new Corruption("none", "test", (p, s, g) => p.clone())] };
        var result = suite.Evaluate(model, source, Format);
        Assert.That(result.Entries, Has.Count.EqualTo(5));
        Assert.That(result.MeanAccuracy, Is.EqualTo(result.CleanAccuracy).Within(1e-12));
        var full = new CorruptionRobustness().Evaluate(model, source, Format);
        Assert.That(full.Entries, Has.Count.EqualTo(Corruptions.Suite.Count * 5));
        Assert.That(full.PerCorruption.Keys, Is.EquivalentTo(Corruptions.Names));
    }
}
