using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Measurement;
using Reproduce.Measurement.Flatness;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Safety;
using Reproduce.Measurement.Sharpness;
using Reproduce.Training.Models;
using Reproduce.Training.Regimes;
using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// What a per-run metric measures on: one trained model (in evaluation mode), its setting's data cut into the shared
/// batch sources, the loss, the setting profile's measurement budgets (SAM draws, Hessian probes), the regime it was
/// trained in and the seed of the measurement draws. This is where a training model is adapted to the measurement
/// library's <see cref="IFeatureModel"/>. Sharpness is measured on the first MeasureSize training samples, clean data
/// unless the metric says otherwise; safety metrics on the test subset (robustness on its first RobustnessSize).
/// Test and train predictions are computed once and shared by every metric of the run (and the stored run).
/// </summary>
public sealed class RunMeasurementContext : IDisposable
{
    /// <summary>Batch size of the measure subset (sharpness measures sum per-batch terms, so it changes nothing but memory).</summary>
    public const int MeasureBatch = 250;

    private Predictions? testPredictions, trainPredictions;
    private readonly Dictionary<(double Rho, int Draws, long Seed, LossAveraging Averaging), SamDrawLosses> samLosses = [];
    private readonly Dictionary<LossSubset, double> meanLosses = [];
    private DampedProbeSolves? gaussNewtonSolves;

    public RunMeasurementContext(FeatureNetwork model, SettingProfile settingProfile, Regime regime, SettingData data, int seed)
    {
        Model = model; SettingProfile = settingProfile; Regime = regime; Data = data; Seed = seed;
        Loss = settingProfile.IsRegression ? LossKind.MeanSquaredError : LossKind.CrossEntropy;
        model.eval();
        using var scope = NewDisposeScope();
        MeasureSubset = TensorBatchSource.Uniform(data.Train.Inputs.narrow(0, 0, settingProfile.MeasureSize), data.Train.Targets.narrow(0, 0, settingProfile.MeasureSize), MeasureBatch);
        TrainSubset = TensorBatchSource.Uniform(data.Train.Inputs, data.Train.Targets, 1000);
        TestSubset = TensorBatchSource.Uniform(data.Test.Inputs, data.Test.Targets, 1000);
        int r = Math.Min(settingProfile.RobustnessSize, (int)data.Test.Count);
        RobustnessSubset = TensorBatchSource.Uniform(data.Test.Inputs.narrow(0, 0, r), data.Test.Targets.narrow(0, 0, r), 500);
    }

    public FeatureNetwork Model { get; }
    public SettingProfile SettingProfile { get; }
    /// <summary>The regime the model was trained in (a metric measured "as the paper's code" follows its augmentation).</summary>
    public Regime Regime { get; }
    public SettingData Data { get; }
    /// <summary>Seed of every random draw a metric makes (perturbations, probes, corruptions, attack starts).</summary>
    public int Seed { get; }

    /// <summary>The first MeasureSize training samples, in batches of <see cref="MeasureBatch"/>.</summary>
    public TensorBatchSource MeasureSubset { get; }
    /// <summary>The whole training subset, in batches of 1000.</summary>
    public TensorBatchSource TrainSubset { get; }
    /// <summary>The whole test subset, in batches of 1000.</summary>
    public TensorBatchSource TestSubset { get; }
    /// <summary>The first RobustnessSize test samples, in batches of 500.</summary>
    public TensorBatchSource RobustnessSubset { get; }

    /// <summary>The trajectories recorded while this model trained, by <see cref="TrajectoryMetric.TrajectoryKey"/>; null
    /// for a model that was not observed in training (one loaded from a checkpoint).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<TrajectoryPoint>>? Trajectories { get; init; }

    /// <summary>Cross-entropy for classification settings, MSE for regression ones.</summary>
    public LossKind Loss { get; }

    public bool IsRegression => SettingProfile.IsRegression;

    /// <summary>The mean loss (the setting's: cross-entropy or MSE) over the training or test subset in evaluation mode,
    /// computed once per run and subset: train_loss and train_loss_relative share it.</summary>
    public double MeanLoss(LossSubset subset) =>
        meanLosses.TryGetValue(subset, out var known) ? known
        : meanLosses[subset] = DataLoss.Evaluate(Model, Loss, subset == LossSubset.Train ? TrainSubset : TestSubset);

    /// <summary>Predictions on the test subset, computed once per run.</summary>
    public Predictions TestPredictions { get { RequireClassification(); return testPredictions ??= Predictions.Collect(Model, TestSubset); } }

    /// <summary>Predictions on the training subset (evaluation mode), computed once per run.</summary>
    public Predictions TrainPredictions { get { RequireClassification(); return trainPredictions ??= Predictions.Collect(Model, TrainSubset); } }

    /// <summary>
    /// The losses of a SAM sharpness measure on the measure subset, kept per (radius, draws, seed, averaging) for the run:
    /// sam_sharpness and sam_sharpness_curvature make the same draws, so the second reuses the first's L(w) and
    /// L(w + d_j) and evaluates only what it lacks (each value bit-identical to a fresh evaluation; the metrics restore
    /// the weights bit for bit, so the model is the same for every metric of the run).
    /// </summary>
    public SamDrawLosses SamLosses(SamSharpness measure)
    {
        var key = (measure.Rho, measure.Draws, measure.Seed, measure.Averaging);
        samLosses.TryGetValue(key, out var known);
        return samLosses[key] = measure.Losses(Model, Loss, MeasureSubset, known);
    }

    /// <summary>
    /// The damped Gauss-Newton solves u_j = (G + lambda I)^{-1} z_j on the measure subset, once per run: ggn_soft_rank
    /// and ggn_damped_tic read the same probes and solves (lambda 5e-4, the profile's hessianProbes, the run's seed,
    /// at most 100 conjugate-gradient iterations), which are almost all of either's cost. Each metric alone computes
    /// exactly these, so sharing changes no bit (<see cref="DampedProbeSolves"/>).
    /// </summary>
    public DampedProbeSolves GaussNewtonSolves() => gaussNewtonSolves ??= DampedProbeSolves.Solve(
        new GaussNewtonOperator(new ModelObjective(Model, Loss, MeasureSubset)), GaussNewtonSoftRankMetric.Damping, SettingProfile.HessianProbes, Seed,
        new Reproduce.Measurement.Flatness.ConjugateGradient { MaxIterations = GaussNewtonSoftRankMetric.MaxIterations });

    /// <summary>The model as the measurement library sees a feature model: its penultimate features and classifier weight.</summary>
    public FeatureModel FeatureModel() => new(Model, Model.Features, $"{FeatureNetwork.ClassifierName}.weight");

    /// <summary>A metric that needs class predictions refuses a regression setting with the suite's message.</summary>
    public void RequireClassification()
    {
        if (SettingProfile.IsRegression)
            throw new ArgumentException($"{Data.Train.Name}: class predictions (accuracy, calibration, consistency, Fisher-Rao, relative flatness) need a classification setting.");
    }

    /// <summary>The metric's value on this run's model; every tensor it makes is freed on return.</summary>
    public MetricValue Measure(RunMetric metric)
    {
        using var scope = NewDisposeScope();
        return metric.Compute(this);
    }

    public void Dispose()
    {
        MeasureSubset.Dispose(); TestSubset.Dispose(); RobustnessSubset.Dispose(); TrainSubset.Dispose();
        testPredictions?.Dispose();
        trainPredictions?.Dispose();
        gaussNewtonSolves?.Dispose();
    }
}
