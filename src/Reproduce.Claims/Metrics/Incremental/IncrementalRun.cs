using System.Runtime.CompilerServices;
using Reproduce.Measurement.Hessian;
using Reproduce.Training.Incremental;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// What the incremental few-shot metrics share: the run's protocol (its regime's <see cref="IncrementalSettings"/>), the
/// sessions run once per run on a copy of its base model (<see cref="IncrementalFewShot.RunSessions"/>, shots drawn with
/// the run's seed, so every metric of a run reads the same sessions), and the base task the base model was trained on:
/// the base classes' samples of the measure subset and the loss over the base classes' logits.
/// </summary>
internal static class IncrementalRun
{
    private static readonly ConditionalWeakTable<RunMeasurementContext, SessionRecord> sessions = new();

    /// <summary>The run's protocol; a run of another regime is the suite's error naming the metric.</summary>
    public static IncrementalSettings Settings(RunMeasurementContext run, string metric) => run.Regime.Incremental
        ?? throw new ArgumentException($"Metric '{metric}' measures an incremental few-shot run (regime with an incremental protocol, e.g. F2M or FSCIL-Base); regime '{run.Regime.Name}' has none.");

    /// <summary>The run's sessions, run on first request and kept with the run's measurement context.</summary>
    public static SessionRecord Sessions(RunMeasurementContext run, string metric)
    {
        var settings = Settings(run, metric);
        run.RequireClassification();
        lock (sessions)
            return sessions.GetValue(run, r => IncrementalFewShot.RunSessions(r.Model, r.Data.Train, r.Data.Test, settings, r.Seed));
    }

    /// <summary>The base classes' samples among the first MeasureSize training samples, in batches of
    /// <see cref="RunMeasurementContext.MeasureBatch"/> (the caller disposes it).</summary>
    public static TensorBatchSource BaseMeasureSubset(RunMeasurementContext run, IncrementalSettings settings)
    {
        using var scope = NewDisposeScope();
        var inputs = run.Data.Train.Inputs.narrow(0, 0, run.SettingProfile.MeasureSize);
        var targets = run.Data.Train.Targets.narrow(0, 0, run.SettingProfile.MeasureSize);
        var index = targets.lt(settings.BaseClasses).nonzero().flatten();
        if (index.shape[0] == 0) throw new ArgumentException($"{run.Data.Train.Name}: no base-class sample among the first {run.SettingProfile.MeasureSize} training samples.");
        return TensorBatchSource.Uniform(inputs.index_select(0, index), targets.index_select(0, index), RunMeasurementContext.MeasureBatch);
    }

    /// <summary>The base model as it was trained: its logits over the base classes only. Its parameters are the run
    /// model's, named "model." + the run model's names. Never disposed (that would dispose the run's model).</summary>
    public static BaseClassLogits BaseTask(RunMeasurementContext run, IncrementalSettings settings) => new(run.Model, settings.BaseClasses);

    /// <summary>The noised parameters' names in <see cref="BaseTask"/>'s naming.</summary>
    public static IReadOnlyList<string> NoisedNames(RunMeasurementContext run) =>
        [.. IncrementalFewShot.NoisedParameters(run.Model).Select(p => "model." + p.Name)];
}

/// <summary>logits[:, :B] of a feature network: the base training's classifier over the base classes.</summary>
internal sealed class BaseClassLogits : nn.Module<Tensor, Tensor>
{
    private readonly FeatureNetwork model;
    private readonly long classes;

    public BaseClassLogits(FeatureNetwork model, int classes) : base(nameof(BaseClassLogits))
    {
        this.model = model;
        this.classes = classes;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => model.forward(x).narrow(1, 0, classes);
}
