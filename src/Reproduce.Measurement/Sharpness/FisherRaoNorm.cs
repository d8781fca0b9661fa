using Reproduce.Measurement.Safety;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>Which constant multiplies the Fisher-Rao norm: Liang et al.'s c = D (weight layers), or the paper's code's c = D + 1.</summary>
public enum FisherRaoFactor { Liang, PaperCode }

public sealed record FisherRaoResult(double Value, FisherRaoFactor Factor, int WeightLayers, double Constant, long Samples);

/// <summary>
/// Fisher-Rao norm (Liang et al. 2019), analytic cross-entropy form:
///   ||theta||_fr = sqrt( c^2 * mean_i ( &lt;softmax(f_i), f_i&gt; - f_i[y_i] )^2 ),
/// with f_i the logits of sample i. For a bias-free ReLU network with D weight layers this is
/// sqrt(mean_i &lt;theta, grad_theta loss_i&gt;^2) at c = D (Euler's theorem: &lt;theta, grad_theta f&gt; = D f, and
/// d loss/d f = softmax(f) - e_y). The paper's code uses c = D + 1; both are offered, Liang's is the default.
/// </summary>
public sealed class FisherRaoNorm
{
    public FisherRaoFactor Factor { get; init; } = FisherRaoFactor.Liang;

    public FisherRaoResult Compute(Predictions logitsAndLabels, int weightLayers)
    {
        if (weightLayers < 1) throw new ArgumentOutOfRangeException(nameof(weightLayers), weightLayers, "A network has at least one weight layer.");
        var logits = logitsAndLabels.Logits ?? throw new ArgumentException("The Fisher-Rao norm needs logits, not only probabilities.");
        using var scope = NewDisposeScope();
        var f = logits.to(ScalarType.Float64);
        var p = f.softmax(1);
        var inner = (p * f).sum(1) - f.gather(1, logitsAndLabels.Labels.unsqueeze(1)).squeeze(1);
        double c = Factor == FisherRaoFactor.Liang ? weightLayers : weightLayers + 1;
        double value = Math.Sqrt(c * c * inner.square().mean().item<double>());
        if (!double.IsFinite(value)) throw new NonFiniteValueException("Fisher-Rao norm is not finite (logits overflow?).");
        return new FisherRaoResult(value, Factor, weightLayers, c, logitsAndLabels.Count);
    }

    public FisherRaoResult Compute(nn.Module<Tensor, Tensor> network, Hessian.IBatchSource data) =>
        Compute(Predictions.Collect(network, data), WeightLayers.Count(network));
}
