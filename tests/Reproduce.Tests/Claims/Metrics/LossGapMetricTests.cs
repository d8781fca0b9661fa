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

/// <summary>loss_gap against a float64 cross-entropy computed here from the model's logits, on train and test sets that
/// differ (so the gap is not zero).</summary>
[TestFixture, Category("Unit")]
public class LossGapMetricTests
{
    [Test]
    public void TheLossGapIsTheTestMinusTheTrainCrossEntropyInFloat64()
    {
        using var scope = NewDisposeScope();
        var spec = ModelSpec.ForMlp([6, 8, 3]);
        var (xTrain, yTrain) = RandomNetworks.ClassificationData(40, 6, 3, 9);
        var (xTest, yTest) = RandomNetworks.ClassificationData(30, 6, 3, 11);
        var model = (FeatureNetwork)spec.Build(5);
        var profile = new SettingProfile { Data = "fashion-mnist", Model = spec, TrainSize = 40, TestSize = 30, MeasureSize = 40, Epochs = 1, BatchSize = 10, LearningRate = 0.1, Seeds = 2, RobustnessSize = 30 };
        using var run = new RunMeasurementContext(model, profile, RegimeRegistry.Get("Base"),
            new SettingData(new Dataset(xTrain.to(ScalarType.Float32), yTrain, "train"), new Dataset(xTest.to(ScalarType.Float32), yTest, "test"), null), 3);
        var gap = run.Measure(MetricRegistry.GetPerRun("loss_gap"));

        double CrossEntropy(Tensor x, Tensor y)
        {
            model.eval();
            using var noGrad = no_grad();
            var logits = model.forward(x.to(ScalarType.Float32)).to(ScalarType.Float64).data<double>().ToArray();
            var labels = y.to(ScalarType.Int64).data<long>().ToArray();
            double total = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                var row = logits.AsSpan(i * 3, 3);
                double max = Math.Max(row[0], Math.Max(row[1], row[2]));
                double logSum = max + Math.Log(Math.Exp(row[0] - max) + Math.Exp(row[1] - max) + Math.Exp(row[2] - max));
                total += logSum - row[(int)labels[i]];
            }
            return total / labels.Length;
        }
        double expected = CrossEntropy(xTest, yTest) - CrossEntropy(xTrain, yTrain);
        Assert.That(Math.Abs(expected), Is.GreaterThan(1e-3), "the two sets differ, so the gap is not zero");
        Assert.That(gap.Value, Is.EqualTo(expected).Within(1e-5));
        Assert.That(gap.Details, Does.Contain("\"trainLoss\"").And.Contain("\"testLoss\""));
    }
}
