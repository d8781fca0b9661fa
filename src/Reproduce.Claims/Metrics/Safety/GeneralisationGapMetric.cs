using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>generalisation_gap: 100 (train accuracy - test accuracy), in percentage points, both in evaluation mode.</summary>
public sealed class GeneralisationGapMetric : RunMetric
{
    public override string Name => "generalisation_gap";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "100 x (train accuracy - test accuracy), percentage points";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        double trainAccuracy = ClassificationMetrics.Accuracy(run.TrainPredictions), testAccuracy = ClassificationMetrics.Accuracy(run.TestPredictions);
        return new(ClassificationMetrics.GeneralisationGapPercent(trainAccuracy, testAccuracy), Details(new { trainAccuracy, testAccuracy }));
    }
}
