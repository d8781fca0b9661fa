using Reproduce.Measurement.Safety;

namespace Reproduce.Claims.Metrics;

/// <summary>ece_equal_mass: top-label expected calibration error on the test subset with equal-mass bins (each holds
/// the same number of predictions), less sensitive to empty high-confidence bins than equal-width binning.</summary>
public sealed class EqualMassCalibrationErrorMetric : RunMetric
{
    [MetricParameter("confidence bins, each with the same number of predictions")]
    public int Bins { get; init; } = 15;

    public override string Name => "ece_equal_mass";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => $"top-label ECE, {Bins} equal-mass bins, test subset";

    public override MetricValue Compute(RunMeasurementContext run) =>
        new(new ExpectedCalibrationError { Bins = Bins, Binning = CalibrationBinning.EqualMass }.Compute(run.TestPredictions).Value, Details(new { bins = Bins, binning = "equal-mass" }));
}
