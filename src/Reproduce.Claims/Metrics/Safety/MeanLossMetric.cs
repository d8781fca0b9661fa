namespace Reproduce.Claims.Metrics;

/// <summary>The subset a loss is averaged over.</summary>
public enum LossSubset { Train, Test }

/// <summary>train_loss / test_loss: the mean loss over the whole training or test subset, evaluation mode; the setting's
/// loss (cross-entropy for classification, MSE for regression). Registered once per subset.</summary>
public sealed class MeanLossMetric(LossSubset subset) : RunMetric
{
    /// <summary>Which subset; part of the name (train_loss, test_loss).</summary>
    public LossSubset Subset { get; } = subset;

    public override string Name => Subset == LossSubset.Train ? "train_loss" : "test_loss";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => $"mean loss on the {(Subset == LossSubset.Train ? "training" : "test")} subset (evaluation mode; MSE for regression settings)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var source = Subset == LossSubset.Train ? run.TrainSubset : run.TestSubset;
        return new(run.MeanLoss(Subset), Details(new { loss = run.Loss.ToString(), samples = source.SampleCount }));
    }
}
