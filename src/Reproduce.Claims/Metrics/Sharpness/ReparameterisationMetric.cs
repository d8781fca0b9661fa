using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Safety;
using Reproduce.Measurement.Sharpness;
using Reproduce.Training.Models;
using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>What a reparameterisation metric compares between a model and its rescaled copy.</summary>
public enum ReparameterisedQuantity
{
    /// <summary>max over the test subset and the classes of |p'(x) - p(x)|, the softmax probabilities.</summary>
    PredictionChange,
    HessianTopEigenvalue,
    HessianTrace,
    FisherRao,
    RelativeFlatness,
    AdaptiveSharpness,
}

/// <summary>
/// Dinh et al. (ICML 2017, arXiv 1703.04933) on the run's model: a copy rescaled by T_alpha
/// (<see cref="ReluRescaling"/>: penultimate features times alpha, classifier weight divided by alpha) computes the
/// same function, so a measure of the minimum that depends on the function only is unchanged, while the Hessian's
/// classifier block is multiplied by alpha^2 and the last hidden layer's block divided by it.
/// reparam_prediction_change is the largest change of a test probability; reparam_ratio_&lt;measure&gt; is
/// measure(T_alpha w) / measure(w), both measured by the suite's own metric with its default settings and the run's
/// seed (so the same probes, start vectors and perturbation draws on both sides). The model itself is not touched.
/// Registered once per quantity.
/// </summary>
public sealed class ReparameterisationMetric(ReparameterisedQuantity quantity) : RunMetric
{
    [MetricParameter("what is compared between the model and its rescaled copy")]
    public ReparameterisedQuantity Quantity { get; } = quantity;

    [MetricParameter("the factor alpha: last hidden layer (weight, bias) times alpha, classifier weight divided by alpha")]
    public double Alpha { get; init; } = 10;

    /// <summary>The suite's metric of the measured quantity (null for the prediction change), with its default settings.</summary>
    public RunMetric? Measure => Quantity switch
    {
        ReparameterisedQuantity.HessianTopEigenvalue => new HessianTopEigenvalueMetric(),
        ReparameterisedQuantity.HessianTrace => new HessianTraceMetric(),
        ReparameterisedQuantity.FisherRao => new FisherRaoMetric(FisherRaoFactor.Liang),
        ReparameterisedQuantity.RelativeFlatness => new RelativeFlatnessMetric(),
        ReparameterisedQuantity.AdaptiveSharpness => new AdaptiveSharpnessMetric(),
        _ => null,
    };

    public override string Name => Measure is { } m ? $"reparam_ratio_{m.Name}" : "reparam_prediction_change";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => Measure is { } m
        ? $"ratio measure(T_a w) / measure(w) of {m.Name} under Dinh et al.'s function-preserving rescaling (a = {Format(Alpha)}: penultimate features x a, classifier weight / a; quantity {Format(Quantity)})"
        : $"largest change of a test-set softmax probability under Dinh et al.'s function-preserving rescaling (a = {Format(Alpha)}: penultimate features x a, classifier weight / a; quantity {Format(Quantity)})";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var (first, second) = ReluRescaling.Layers(run.Model.Spec);
        using var scaled = ReluRescaling.Rescale(run.Model, Alpha);
        if (Measure is not { } measure)
        {
            run.RequireClassification();
            using var after = Predictions.Collect(scaled, run.TestSubset);
            double change = (after.Probabilities - run.TestPredictions.Probabilities).abs().max().item<double>();
            return new(change, Details(new { alpha = Alpha, scaledUp = first, scaledDown = second, samples = after.Count, closedForm = 0.0 }));
        }
        var original = run.Measure(measure);
        using var rescaledRun = new RunMeasurementContext(scaled, run.SettingProfile, run.Regime, run.Data, run.Seed);
        var rescaled = rescaledRun.Measure(measure);
        // Closed form where the measure has one: a function of the predictions alone (Fisher-Rao), of the
        // sigma-normalised features and sigma-scaled classifier (relative flatness), or of L(w + |w| u) with u on a
        // fixed ball (adaptive sharpness) is invariant, ratio 1. The Hessian's ratio has no closed form without its
        // block traces; only its growth with alpha (trace -> a^-2 Tr(H_fc) + a^2 Tr(H_classifier) + rest) is known.
        double? closedForm = Quantity is ReparameterisedQuantity.FisherRao or ReparameterisedQuantity.RelativeFlatness or ReparameterisedQuantity.AdaptiveSharpness ? 1.0 : null;
        // The Hessian's known part: the classifier-weight block's exact trace, which T_a multiplies by a^2. With every
        // diagonal block positive semi-definite (one hidden ReLU layer, cross-entropy), Tr(H(T_a w)) >= a^2 Tr(H_WW), so
        // the trace ratio is at least a^2 Tr(H_WW) / Tr(H) (the denominator here is the Hutchinson estimate).
        double? classifierWeightTrace = Quantity is ReparameterisedQuantity.HessianTrace or ReparameterisedQuantity.HessianTopEigenvalue && run.Loss == Measurement.Hessian.LossKind.CrossEntropy
            ? ClassifierWeightHessianTrace(run.Model, run.MeasureSubset) : null;
        // Relative flatness divides each penultimate feature by its std sigma_j and multiplies the classifier's column by
        // it, but leaves a feature with sigma_j = 0 (a ReLU unit dead on every measured sample) unscaled: its column
        // still enters W W^T, as W_j before and W_j / a after T_a, so the measure is invariant only without such units.
        // Their count says whether a ratio off 1 is rounding or this.
        int? constantFeatures = Quantity == ReparameterisedQuantity.RelativeFlatness ? ConstantFeatures(run.Model, run.MeasureSubset) : null;
        double? traceRatioLowerBound = Quantity == ReparameterisedQuantity.HessianTrace && classifierWeightTrace is { } tw ? Alpha * Alpha * tw / original.Value : null;
        return new(rescaled.Value / original.Value, Details(new
        {
            alpha = Alpha, scaledUp = first, scaledDown = second, measure = measure.Name,
            original = original.Value, rescaled = rescaled.Value, closedForm, classifierWeightTrace, traceRatioLowerBound, constantFeatures,
            originalDetails = original.Details, rescaledDetails = rescaled.Details,
        }));
    }

    /// <summary>How many penultimate features have zero standard deviation over <paramref name="data"/> (population form,
    /// as relative flatness computes it): the features relative flatness leaves unnormalised.</summary>
    public static int ConstantFeatures(FeatureNetwork model, Measurement.Hessian.IBatchSource data)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var device = ParameterPlacement.Of(model).Device;
        var phi = cat([.. Enumerable.Range(0, data.BatchCount).Select(b => model.Features(data.GetBatch(b, device).Inputs).to(ScalarType.Float64))], 0);
        return (int)phi.std(0, unbiased: false).eq(0).sum().item<long>();
    }

    /// <summary>
    /// The exact trace of the Hessian block of the classifier weight W for the mean cross-entropy over the samples of
    /// <paramref name="data"/>: with logits W phi + b and p = softmax, d^2 CE / dW^2 = (diag p - p p^T) (x) phi phi^T, so
    /// Tr(H_WW) = (1/N) sum_i ||phi_i||^2 sum_k p_ik (1 - p_ik). It is the block T_a multiplies by a^2, and it is positive
    /// semi-definite, so Tr(H(T_a w)) &gt;= a^2 Tr(H_WW(w)) whenever the other diagonal blocks are too (one hidden ReLU layer).
    /// </summary>
    public static double ClassifierWeightHessianTrace(FeatureNetwork model, Measurement.Hessian.IBatchSource data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var device = ParameterPlacement.Of(model).Device;
        double sum = 0;
        for (int b = 0; b < data.BatchCount; b++)
        {
            var batch = data.GetBatch(b, device);
            var features = model.Features(batch.Inputs);
            var phi = features.to(ScalarType.Float64);
            var p = nn.functional.softmax(model.Classifier.forward(features).to(ScalarType.Float64), 1);
            sum += (phi.pow(2).sum(1) * (p - p.pow(2)).sum(1)).sum().item<double>();
        }
        return sum / data.SampleCount;
    }
}
