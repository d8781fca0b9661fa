using Reproduce.Measurement.Sharpness;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// relative_flatness by its definition: kappa = mean_i ||phi_i||^2 &lt;W W^T, diag p_i - p_i p_i^T&gt; of the classifier
/// layer W with sigma-normalised features phi, the mean over the samples of the measure subset, clean data.
/// </summary>
public sealed class RelativeFlatnessMetric : RunMetric
{
    public override string Name => "relative_flatness";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => "relative flatness, classifier layer, sigma-normalised features, mean over samples, clean data";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        run.RequireClassification();
        var r = new RelativeFlatness().Compute(run.FeatureModel(), run.MeasureSubset);
        return new(r.Value, Details(new { r.FeatureNormalised, reduction = r.Reduction.ToString(), augmentedData = false, r.Samples }));
    }
}
