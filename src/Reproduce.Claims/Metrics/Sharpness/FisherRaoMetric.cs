using Reproduce.Measurement.Sharpness;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// fisher_rao / fisher_rao_paper: the Fisher-Rao norm in its analytic cross-entropy form on the measure subset,
/// sqrt(c^2 mean_i (&lt;softmax f_i, f_i&gt; - f_i[y_i])^2), with Liang et al.'s factor c = D (the depth) or the paper's
/// code's c = D + 1. Registered once per factor.
/// </summary>
public sealed class FisherRaoMetric(FisherRaoFactor factor) : RunMetric
{
    [MetricParameter("the factor c: Liang (D, the number of weight layers) or PaperCode (D + 1)")]
    public FisherRaoFactor Factor { get; } = factor;

    public override string Name => Factor == FisherRaoFactor.Liang ? "fisher_rao" : "fisher_rao_paper";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => Factor == FisherRaoFactor.Liang
        ? $"Fisher-Rao norm, analytic CE form, Liang et al.'s factor D (factor {Format(Factor)})"
        : $"Fisher-Rao norm with the paper's code's factor D + 1 (factor {Format(Factor)})";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        run.RequireClassification();
        var fr = new FisherRaoNorm { Factor = Factor }.Compute(run.Model, run.MeasureSubset);
        return new(fr.Value, Details(new { factor = fr.Factor.ToString(), fr.WeightLayers, fr.Constant, fr.Samples }));
    }
}
