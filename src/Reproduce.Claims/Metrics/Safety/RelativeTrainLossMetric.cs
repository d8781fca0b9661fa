namespace Reproduce.Claims.Metrics;

/// <summary>
/// train_loss_relative: the training MSE over the variance of the training targets (<see cref="Training.Data.Dataset.TargetVariance"/>,
/// the MSE of the best constant predictor, their mean), i.e. 1 - R^2 on the training subset. Scale-free: 1 for a model
/// that predicts the targets' mean, 0 for a perfect fit, whatever the targets' units. Claim 11 compares "equally
/// converged" fits of 2-D targets whose values differ by orders of magnitude (on [-3.5, 3.5]^2 the sphere's variance
/// is about 27, Beale's about 8e6), so one absolute MSE means a near-perfect fit of one target and a poor fit of another;
/// the same fraction of each target's variance left unexplained is the same quality of fit. Regression settings only.
/// The numerator is the train_loss metric's value (the run's one evaluation, <see cref="RunMeasurementContext.MeanLoss"/>), so this is train_loss / variance.
/// </summary>
public sealed class RelativeTrainLossMetric : RunMetric
{
    public override string Name => "train_loss_relative";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "training MSE over the variance of the training targets (1 - R^2 on the training subset; 1 = predicting the mean; evaluation mode; regression settings)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        if (!run.IsRegression)
            throw new ArgumentException($"{run.Data.Train.Name}: train_loss_relative divides a regression (MSE) loss by the targets' variance; this is a classification setting.");
        double loss = run.MeanLoss(LossSubset.Train);
        double variance = run.Data.Train.TargetVariance();
        if (!(variance > 0))
            throw new ArgumentException($"{run.Data.Train.Name}: the training targets are constant (variance {variance}), so no fit is relative to them.");
        return new(loss / variance, Details(new { trainLoss = loss, targetVariance = variance, samples = run.TrainSubset.SampleCount }));
    }
}
