namespace Reproduce.Claims.Metrics;

/// <summary>
/// loss_gap: test mean loss - train mean loss (evaluation mode, the setting's loss: cross-entropy for classification),
/// the generalisation gap "Flatness After All?" relates to the soft rank and the TIC (its gap is in the loss, E[test
/// loss] - train loss ~ rank_lambda(H) / n for a calibrated model), where generalisation_gap is the accuracy gap. The two
/// mean losses are the run's own (<see cref="RunMeasurementContext.MeanLoss"/>), the ones train_loss and test_loss store.
/// </summary>
public sealed class LossGapMetric : RunMetric
{
    public override string Name => "loss_gap";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "test mean loss - train mean loss (evaluation mode; cross-entropy for classification, MSE for regression)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        double train = run.MeanLoss(LossSubset.Train), test = run.MeanLoss(LossSubset.Test);
        return new(test - train, Details(new { trainLoss = train, testLoss = test }));
    }
}
