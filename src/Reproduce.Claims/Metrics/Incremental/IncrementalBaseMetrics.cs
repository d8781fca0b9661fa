using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using Reproduce.Training.Incremental;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>incremental_base_train_accuracy: the base model's accuracy on the base classes' training samples, argmax
/// over the base classes' logits (the base training's own classifier): whether the base training fitted its task.</summary>
public sealed class IncrementalBaseTrainAccuracyMetric : RunMetric
{
    public override string Name => "incremental_base_train_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => "incremental few-shot: the base model's accuracy on the base classes' training samples (argmax over the base logits)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var settings = IncrementalRun.Settings(run, Name);
        run.RequireClassification();
        var task = IncrementalRun.BaseTask(run, settings);
        var labels = run.Data.Train.Targets;
        var index = labels.lt(settings.BaseClasses).nonzero().flatten();
        using var noGrad = no_grad();
        var device = run.Model.parameters().First().device;
        var correct = task.forward(run.Data.Train.Inputs.index_select(0, index).to(device)).argmax(1).eq(labels.index_select(0, index).to(device)).sum().item<long>();
        return new((double)correct / index.shape[0], Details(new { samples = index.shape[0] }));
    }
}

/// <summary>incremental_base_hessian_trace: Hutchinson's estimate mean_k z_k^T H_P z_k of the trace of the base
/// task's Hessian restricted to the noised parameters P (the block the sessions move), the loss the mean cross-entropy
/// over the base classes' logits on the base classes' samples of the measure subset; z_k Rademacher, as many probes as
/// the setting profile's hessianProbes, seeded with the run's seed. Measured on the base model, before any session.</summary>
public sealed class IncrementalBaseHessianTraceMetric : RunMetric
{
    public override string Name => "incremental_base_hessian_trace";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => "incremental few-shot: the base model's Hessian trace over the noised hidden-layer weights, base-class loss on the base classes' samples of the measure subset (Hutchinson, Rademacher; probes: hessianProbes)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var settings = IncrementalRun.Settings(run, Name);
        using var subset = IncrementalRun.BaseMeasureSubset(run, settings);
        var op = new HessianOperator(new ModelObjective(IncrementalRun.BaseTask(run, settings), run.Loss, subset, IncrementalRun.NoisedNames(run)));
        var r = new HutchinsonTrace { Probes = run.SettingProfile.HessianProbes, Seed = run.Seed }.Estimate(op);
        return new(r.Value, Details(new { r.StandardError, r.Probes, samples = subset.SampleCount, parameters = op.Dimension }));
    }
}

/// <summary>
/// incremental_base_noise_loss_increase: the code's test_flatness on the base model: the mean over
/// <see cref="Draws"/> box-noise draws eps_j of L(theta + eps_j) - L(theta), every coordinate of the noised parameters P
/// uniform in [-b/2, b/2] with b = <see cref="Bound"/> (the F2M regime's box), L the base task's mean cross-entropy on
/// the base classes' samples of the measure subset. Draws from a generator seeded with the run's seed; the weights are
/// restored bit for bit after each draw.
/// </summary>
public sealed class IncrementalBaseNoiseLossMetric : RunMetric
{
    public override string Name => "incremental_base_noise_loss_increase";
    public override MetricFamily Family => MetricFamily.Sharpness;

    [MetricParameter("the box's full width b (F2M's bound 0.01)")]
    public double Bound => 0.01;

    [MetricParameter("noise draws averaged")]
    public int Draws => 20;

    public override string Description => $"incremental few-shot: mean over {Draws} box-noise draws (width {Format(Bound)}) of the noised hidden-layer weights of the base model's loss increase L(theta + eps) - L(theta), base classes, measure subset";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var settings = IncrementalRun.Settings(run, Name);
        using var subset = IncrementalRun.BaseMeasureSubset(run, settings);
        var objective = new ModelObjective(IncrementalRun.BaseTask(run, settings), run.Loss, subset, IncrementalRun.NoisedNames(run));
        var noised = objective.Parameters;
        var originals = noised.Select(p => p.detach().clone()).ToList();
        double at = objective.Value();
        var generator = new Generator((ulong)run.Seed);
        var increases = new double[Draws];
        try
        {
            for (int j = 0; j < Draws; j++)
            {
                using var drawScope = NewDisposeScope();
                var eps = FlatBox.Draw(noised, Bound, generator);
                using (no_grad()) for (int i = 0; i < noised.Count; i++) noised[i].add_(eps[i]);
                increases[j] = objective.Value() - at;
                using (no_grad()) for (int i = 0; i < noised.Count; i++) noised[i].copy_(originals[i]);
            }
        }
        finally
        {
            using (no_grad()) for (int i = 0; i < noised.Count; i++) noised[i].copy_(originals[i]);
        }
        double mean = increases.Average();
        double sd = Math.Sqrt(increases.Sum(v => (v - mean) * (v - mean)) / (Draws - 1));
        return new(mean, Details(new { loss = at, standardDeviation = sd, draws = Draws, samples = subset.SampleCount }));
    }
}
