using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>ece: top-label expected calibration error on the test subset, equal-width bins, L1 (the torchmetrics
/// convention); the details keep each bin's count.</summary>
public sealed class CalibrationErrorMetric : RunMetric
{
    [MetricParameter("confidence bins")]
    public int Bins { get; init; } = 15;

    public override string Name => "ece";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => $"top-label ECE, {Bins} equal-width bins, L1 (torchmetrics convention), test subset";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var r = new ExpectedCalibrationError { Bins = Bins, Binning = CalibrationBinning.EqualWidth }.Compute(run.TestPredictions);
        return new(r.Value, Details(new { bins = Bins, binning = "equal-width", counts = r.Bins.Select(b => b.Count) }));
    }
}
