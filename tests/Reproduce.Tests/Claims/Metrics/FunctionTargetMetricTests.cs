using NUnit.Framework;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Training.Regimes;
using static TorchSharp.torch;

namespace Reproduce.Tests.Claims.Metrics;

/// <summary>
/// Claim 11's measures over the 2-D targets (issue 15.3): train_loss_relative = train MSE / variance of the training
/// targets (1 - R^2) against hand values, and SAM sharpness at the paper's other radii against sam_sharpness's own
/// computation at the same radius.
/// </summary>
[TestFixture, Category("Unit")]
public class FunctionTargetMetricTests
{
    // Targets 1, 3, 5, 7 repeated: mean 4, deviations -3, -1, 1, 3, so the population variance is (9 + 1 + 1 + 9) / 4 = 5,
    // every figure exact in float32.
    private static readonly float[] Targets = [1, 3, 5, 7];

    private static RunMeasurementContext RegressionContext(FeatureNetwork model, float[]? targets = null, int repeat = 25)
    {
        var spec = ModelSpec.ForMlp([2, 4, 1]);
        var values = targets ?? [.. Enumerable.Repeat(Targets, repeat).SelectMany(t => t)];
        var x = randn([values.Length, 2], generator: new Generator(7));
        var y = tensor(values, [values.Length, 1]);
        var profile = new SettingProfile
        {
            Data = "functions2d", Function = "sphere", Model = spec, TrainSize = values.Length, TestSize = values.Length, MeasureSize = values.Length,
            Epochs = 1, BatchSize = values.Length, LearningRate = 0.1, Seeds = 2, RobustnessSize = values.Length, SamDraws = 12,
        };
        var data = new SettingData(new Dataset(x, y, "train"), new Dataset(x.clone(), y.clone(), "test"), null);
        return new RunMeasurementContext(model, profile, RegimeRegistry.Get("Base"), data, 3);
    }

    /// <summary>An MLP 2-4-1 whose output is the constant <paramref name="constant"/>: classifier weight 0, bias the constant.</summary>
    private static FeatureNetwork ConstantModel(double constant)
    {
        var model = (FeatureNetwork)ModelSpec.ForMlp([2, 4, 1]).Build(5);
        using var noGrad = no_grad();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters[$"{FeatureNetwork.ClassifierName}.weight"].zero_();
        parameters[$"{FeatureNetwork.ClassifierName}.bias"].fill_(constant);
        return model;
    }

    [Test]
    public void TheTargetVarianceIsTheMseOfPredictingTheMeanAveragedOverOutputs()
    {
        using var scope = NewDisposeScope();
        using var one = new Dataset(zeros(4, 2), tensor(Targets, [4, 1]), "one output");
        Assert.That(one.TargetVariance(), Is.EqualTo(5.0));
        // Two outputs: columns (1, 3, 5, 7) with variance 5 and (10, 10, 20, 20) with variance 25; the MSE averages over
        // output entries, so the best constant predictor's MSE is (5 + 25) / 2 = 15.
        using var two = new Dataset(zeros(4, 2), tensor(new float[] { 1, 10, 3, 10, 5, 20, 7, 20 }, [4, 2]), "two outputs");
        Assert.That(two.TargetVariance(), Is.EqualTo(15.0));
    }

    [Test]
    public void TheRelativeTrainLossIsOneForTheMeanZeroForAPerfectFitAndTheHandValueBetween()
    {
        using var scope = NewDisposeScope();
        var metric = MetricRegistry.GetPerRun("train_loss_relative");
        using (var mean = RegressionContext(ConstantModel(4)))
            Assert.That(mean.Measure(metric).Value, Is.EqualTo(1.0), "predicting the mean leaves all the variance: 1 - R^2 = 1");
        // Predicting mean + 1: MSE = variance + 1^2 = 6, so 6 / 5.
        using (var offset = RegressionContext(ConstantModel(5)))
            Assert.That(offset.Measure(metric).Value, Is.EqualTo(6.0 / 5.0));
        // A perfect fit: the model's own outputs as the targets.
        var model = (FeatureNetwork)ModelSpec.ForMlp([2, 4, 1]).Build(5);
        model.eval();
        var x = randn([40, 2], generator: new Generator(7));
        float[] own;
        using (no_grad()) own = model.forward(x).data<float>().ToArray();
        using var perfect = RegressionContext(model, own);
        var value = perfect.Measure(metric);
        Assert.That(value.Value, Is.EqualTo(0.0));
        Assert.That(value.Details, Does.Contain("\"targetVariance\""));
    }

    [Test]
    public void TheRelativeTrainLossRefusesAClassificationSetting()
    {
        using var scope = NewDisposeScope();
        var spec = ModelSpec.ForMlp([6, 8, 3]);
        var (x, y) = RandomNetworks.ClassificationData(30, 6, 3, 9);
        var profile = new SettingProfile { Data = "fashion-mnist", Model = spec, TrainSize = 30, TestSize = 30, MeasureSize = 30, Epochs = 1, BatchSize = 10, LearningRate = 0.1, Seeds = 2, RobustnessSize = 30 };
        using var run = new RunMeasurementContext((FeatureNetwork)spec.Build(5), profile, RegimeRegistry.Get("Base"),
            new SettingData(new Dataset(x.to(ScalarType.Float32), y, "train"), new Dataset(x.to(ScalarType.Float32), y, "test"), null), 3);
        Assert.That(() => run.Measure(MetricRegistry.GetPerRun("train_loss_relative")), Throws.ArgumentException.With.Message.Contains("classification"));
    }

    [Test]
    public void TheRadiusMetricsAreTheRegisteredPaperCurveAndSamSharpnessAtTheirRadiusBitForBit()
    {
        using var scope = NewDisposeScope();
        Assert.That(SamSharpnessAtRadiusMetric.PaperCurveRadii, Is.EqualTo(new[] { 0.0005, 0.005, 0.05, 0.5 }));
        Assert.That(SamSharpnessAtRadiusMetric.PaperCurveRadii.Select(SamSharpnessAtRadiusMetric.MetricNameAt),
            Is.EqualTo(new[] { "sam_sharpness_rho_0p0005", "sam_sharpness", "sam_sharpness_rho_0p05", "sam_sharpness_rho_0p5" }));
        var values = new List<double>();
        foreach (var rho in SamSharpnessAtRadiusMetric.PaperCurveRadii)
        {
            // The registered metric (or, at the paper's radius, an unregistered instance) against SamSharpnessMetric at
            // that radius, each on a fresh context of the same model: value and details equal bit for bit.
            var atRadius = rho == SamSharpnessMetric.PaperRho ? new SamSharpnessAtRadiusMetric(rho) : (SamSharpnessAtRadiusMetric)MetricRegistry.GetPerRun(SamSharpnessAtRadiusMetric.MetricNameAt(rho));
            Assert.That(atRadius.Rho, Is.EqualTo(rho));
            MetricValue Measure(RunMetric m) { using var run = RegressionContext(Trainedish()); return run.Measure(m); }
            var a = Measure(atRadius);
            var b = Measure(new SamSharpnessMetric { Rho = rho });
            Assert.That(a, Is.EqualTo(b), $"rho {rho}");
            values.Add(a.Value);
        }
        using (var registered = RegressionContext(Trainedish()))
        using (var atPaperRadius = RegressionContext(Trainedish()))
            Assert.That(registered.Measure(MetricRegistry.GetPerRun("sam_sharpness")), Is.EqualTo(atPaperRadius.Measure(new SamSharpnessAtRadiusMetric(SamSharpnessMetric.PaperRho))));
        Assert.That(values.Distinct().Count(), Is.EqualTo(4), "each radius gives its own value (one radius used for all would not)");
        Assert.That(() => new SamSharpnessAtRadiusMetric(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    private static FeatureNetwork Trainedish() => (FeatureNetwork)ModelSpec.ForMlp([2, 4, 1]).Build(11);
}
