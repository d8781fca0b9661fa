using System.Text.Json;
using Reproduce.Claims.Specs;
using Reproduce.Measurement;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Safety;
using Reproduce.Measurement.Sharpness;
using Reproduce.Measurement.Spectral;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Training.Regimes;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Claims.Runner;

/// <summary>
/// Computes the catalog's per-run metrics for one trained model. This is where a training model is adapted to the
/// measurement library's <see cref="IFeatureModel"/>. Sharpness is measured on the first MeasureSize training samples,
/// model in evaluation mode, clean data unless the metric says otherwise; safety metrics on the test subset.
/// </summary>
public sealed class MetricComputer : IDisposable
{
    public const int MeasureBatch = 250, PaperBatch = 128;
    private readonly FeatureNetwork model;
    private readonly SettingProfile settingProfile;
    private readonly Regime regime;
    private readonly SettingData data;
    private readonly int seed;
    private readonly TensorBatchSource measure, test, robustness, train;

    public MetricComputer(FeatureNetwork model, SettingProfile settingProfile, Regime regime, SettingData data, int seed)
    {
        this.model = model; this.settingProfile = settingProfile; this.regime = regime; this.data = data; this.seed = seed;
        Loss = settingProfile.IsRegression ? LossKind.MeanSquaredError : LossKind.CrossEntropy;
        model.eval();
        using var scope = NewDisposeScope();
        measure = TensorBatchSource.Uniform(data.Train.Inputs.narrow(0, 0, settingProfile.MeasureSize), data.Train.Targets.narrow(0, 0, settingProfile.MeasureSize), MeasureBatch);
        train = TensorBatchSource.Uniform(data.Train.Inputs, data.Train.Targets, 1000);
        test = TensorBatchSource.Uniform(data.Test.Inputs, data.Test.Targets, 1000);
        int r = Math.Min(settingProfile.RobustnessSize, (int)data.Test.Count);
        robustness = TensorBatchSource.Uniform(data.Test.Inputs.narrow(0, 0, r), data.Test.Targets.narrow(0, 0, r), 500);
    }

    /// <summary>Cross-entropy for classification settings, MSE for regression ones.</summary>
    public LossKind Loss { get; }

    public bool IsRegression => settingProfile.IsRegression;

    private void RequireClassification()
    {
        if (settingProfile.IsRegression)
            throw new ArgumentException($"{data.Train.Name}: class predictions (accuracy, calibration, consistency, Fisher-Rao, relative flatness) need a classification setting.");
    }

    private Predictions? testPredictions, trainPredictions;

    /// <summary>Predictions on the test subset, computed once per run.</summary>
    public Predictions TestPredictions { get { RequireClassification(); return testPredictions ??= Predictions.Collect(model, test); } }

    /// <summary>Predictions on the training subset (evaluation mode), computed once per run.</summary>
    public Predictions TrainPredictions { get { RequireClassification(); return trainPredictions ??= Predictions.Collect(model, train); } }

    private static string Json(object o) => JsonSerializer.Serialize(o);

    /// <summary>(value, details JSON) of a per-run metric.</summary>
    public (double Value, string Details) Compute(string metric)
    {
        using var scope = NewDisposeScope();
        switch (metric)
        {
            case "train_loss": return (DataLoss.Evaluate(model, Loss, train), Json(new { loss = Loss.ToString(), samples = train.SampleCount }));
            case "test_loss": return (DataLoss.Evaluate(model, Loss, test), Json(new { loss = Loss.ToString(), samples = test.SampleCount }));
            case "test_accuracy": return (ClassificationMetrics.Accuracy(TestPredictions), Json(new { samples = TestPredictions.Count }));
            case "train_accuracy":
                return (ClassificationMetrics.Accuracy(TrainPredictions), Json(new { samples = TrainPredictions.Count, mode = "eval" }));
            case "generalisation_gap":
            {
                double trainAcc = ClassificationMetrics.Accuracy(TrainPredictions), testAcc = ClassificationMetrics.Accuracy(TestPredictions);
                return (ClassificationMetrics.GeneralisationGapPercent(trainAcc, testAcc), Json(new { trainAccuracy = trainAcc, testAccuracy = testAcc }));
            }
            case "train_confidence":
            {
                // Mean top-label probability on the training subset: cross-entropy curvature scales with diag(p) - p p^T,
                // which vanishes as this approaches 1, so a less confident model reads as sharper (issue 14's confound).
                var p = TrainPredictions.Probabilities.to(ScalarType.Float64);
                return (p.max(1).values.mean().item<double>(), Json(new { samples = TrainPredictions.Count, mode = "eval" }));
            }
            case "gradient_norm":
            {
                // ||grad L(w)|| of the training loss on the measure subset at the final weights: how far from a
                // stationary point the run stopped (the first-order term that can swamp SAM sharpness).
                var g = new HessianOperator(new ModelObjective(model, Loss, measure)).Gradient();
                return (g.to(ScalarType.Float64).norm().item<double>(), Json(new { samples = measure.SampleCount }));
            }
            case "test_nll": return (ClassificationMetrics.NegativeLogLikelihood(TestPredictions), "{}");
            case "test_brier": return (ClassificationMetrics.Brier(TestPredictions), "{}");
            case "ece":
            {
                var r = new ExpectedCalibrationError().Compute(TestPredictions);
                return (r.Value, Json(new { bins = 15, binning = "equal-width", counts = r.Bins.Select(b => b.Count) }));
            }
            case "ece_equal_mass": return (new ExpectedCalibrationError { Binning = CalibrationBinning.EqualMass }.Compute(TestPredictions).Value, Json(new { bins = 15, binning = "equal-mass" }));
            case "corruption_accuracy":
            {
                var r = new CorruptionRobustness { Seed = seed }.Evaluate(model, robustness, data.Images);
                return (r.MeanAccuracy, Json(new { clean = r.CleanAccuracy, perCorruption = r.PerCorruption, samples = robustness.SampleCount }));
            }
            case "pgd_accuracy":
            {
                var r = new AdversarialRobustness { Steps = 10, Seed = seed }.Evaluate(model, robustness, data.Images, [0.05]);
                return (r.Entries[0].Accuracy, Json(new { epsilon = 0.05, steps = 10, attack = r.Attack, samples = robustness.SampleCount }));
            }
            case "sam_sharpness":
            {
                var r = new SamSharpness { Rho = 0.005, Draws = settingProfile.SamDraws, Seed = seed }.Measure(model, Loss, measure);
                return (r.Value, Json(new { r.StandardError, r.Rho, r.Draws, r.ParameterCount, r.PerturbedEntries, averaging = r.Averaging.ToString() }));
            }
            case "sam_sharpness_curvature":
            {
                // The same draws as sam_sharpness, made symmetric: (L(w + d) + L(w - d) - 2 L(w)) / (2 rho) cancels the
                // first-order term g.d exactly and keeps the curvature d^T H d / (2 rho) (plus fourth-order terms).
                var r = new SamSharpness { Rho = 0.005, Draws = settingProfile.SamDraws, Seed = seed, Symmetric = true }.Measure(model, Loss, measure);
                return (r.Value, Json(new { r.StandardError, r.Rho, r.Draws, r.ParameterCount, r.PerturbedEntries, averaging = r.Averaging.ToString(), symmetric = true }));
            }
            case "fisher_rao":
            case "fisher_rao_paper":
            {
                RequireClassification();
                var fr = new FisherRaoNorm { Factor = metric == "fisher_rao" ? FisherRaoFactor.Liang : FisherRaoFactor.PaperCode }.Compute(model, measure);
                return (fr.Value, Json(new { factor = fr.Factor.ToString(), fr.WeightLayers, fr.Constant, fr.Samples }));
            }
            case "relative_flatness":
            {
                RequireClassification();
                var r = new RelativeFlatness().Compute(Adapter(), measure);
                return (r.Value, Json(new { r.FeatureNormalised, reduction = r.Reduction.ToString(), augmentedData = false, r.Samples }));
            }
            case "relative_flatness_paper":
            {
                // The paper's code: per-batch kappa summed over batches, and augmented models measured on augmented data.
                var inputs = data.Train.Inputs.narrow(0, 0, settingProfile.MeasureSize);
                bool augmented = regime.Augment;
                if (augmented) inputs = new CropAndFlip().Apply(inputs, new Generator((ulong)(seed + 7919)));
                using var source = TensorBatchSource.Uniform(inputs, data.Train.Targets.narrow(0, 0, settingProfile.MeasureSize), PaperBatch);
                var r = new RelativeFlatness { Reduction = BatchReduction.SumOverBatches }.Compute(Adapter(), source);
                return (r.Value, Json(new { r.FeatureNormalised, reduction = r.Reduction.ToString(), augmentedData = augmented, r.Batches, r.Samples }));
            }
            case "hessian_top_eigenvalue":
            {
                var op = new HessianOperator(new ModelObjective(model, Loss, measure));
                using var r = new LanczosEigensolver { Tolerance = 1e-4, MaxIterations = 60, Seed = seed }.Solve(op, 1);
                return (r.Values[0], Json(new { r.ApplyCount, r.Converged, residual = r.ResidualNorms[0], samples = measure.SampleCount }));
            }
            case "hessian_trace":
            {
                var op = new HessianOperator(new ModelObjective(model, Loss, measure));
                var r = new HutchinsonTrace { Probes = settingProfile.HessianProbes, Seed = seed }.Estimate(op);
                return (r.Value, Json(new { r.StandardError, r.Probes, samples = measure.SampleCount }));
            }
            case "adaptive_sharpness":
            {
                var r = new AdaptiveSharpness { Rho = 0.1, Steps = 10, Seed = seed }.Measure(new ModelObjective(model, Loss, measure));
                return (r.Value, Json(new { r.Rho, norm = r.Norm.ToString(), steps = r.StepsOrDraws, r.BaseLoss }));
            }
            case "epsilon_sharpness":
            {
                var r = new EpsilonSharpness { Epsilon = 1e-3, Steps = 10, Seed = seed }.Measure(new ModelObjective(model, Loss, measure));
                return (r.Value, Json(new { r.Epsilon, r.Steps, r.BaseLoss, r.MaxLoss }));
            }
            default: throw new ArgumentException($"Metric '{metric}' is not computed per run.");
        }
    }

    private FeatureModel Adapter() => new(model, model.Features, $"{FeatureNetwork.ClassifierName}.weight");

    public void Dispose()
    {
        measure.Dispose(); test.Dispose(); robustness.Dispose(); train.Dispose();
        testPredictions?.Dispose();
        trainPredictions?.Dispose();
    }
}
