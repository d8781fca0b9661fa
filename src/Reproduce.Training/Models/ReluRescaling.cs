using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// Dinh et al.'s reparameterisation (Dinh, Pascanu, Bengio, Bengio, "Sharp Minima Can Generalize For Deep Nets",
/// ICML 2017, arXiv 1703.04933) on a ReLU MLP: T_a (W1, b1, W2, b2) -> (a W1, a b1, W2 / a, b2) for two consecutive
/// Linear layers with a ReLU between them, a &gt; 0. Because relu(a z) = a relu(z) for a &gt; 0, the second layer sees
/// a times its input and divides it by a again: the function, and so every prediction, is unchanged. T_a is the
/// linear map D = diag(a I, a^-1 I) (identity elsewhere), L(T_a w) = L(w), so H(T_a w) = D^-1 H(w) D^-1: the first
/// layer's Hessian block is divided by a^2, the second layer's weight block multiplied by a^2, the cross block kept.
///
/// <para>The default pair is the last hidden layer and the classifier: the penultimate features are scaled by a and the
/// classifier's weight by 1/a. That is the pair relative flatness (a classifier-layer measure) is designed to be
/// invariant to; rescaling two hidden layers would leave the classifier and its features untouched, and relative
/// flatness trivially unchanged.</para>
/// </summary>
public static class ReluRescaling
{
    /// <summary>
    /// A rescaled copy of <paramref name="model"/> (same spec, dtype and device; the model itself is not touched):
    /// hidden layer <paramref name="layer"/> (fc{layer}: weight and bias) times <paramref name="alpha"/>, the next
    /// Linear layer's weight (fc{layer+1}, or the classifier after the last hidden layer) divided by it. Null
    /// <paramref name="layer"/> = the last hidden layer. Only a ReLU MLP qualifies (tanh is not positively homogeneous).
    /// </summary>
    public static FeatureNetwork Rescale(FeatureNetwork model, double alpha, int? layer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (first, second) = Layers(model.Spec, layer);
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentException($"Rescaling factor {alpha} must be positive and finite.", nameof(alpha));
        var copy = ModelCopy.Of(model);
        using (no_grad())
        {
            var target = copy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            target[$"{first}.weight"].mul_(alpha);
            target[$"{first}.bias"].mul_(alpha);
            target[$"{second}.weight"].div_(alpha);
        }
        return copy;
    }

    /// <summary>The parameter-name prefixes of the pair rescaled: (the layer scaled by a, the layer scaled by 1/a).</summary>
    public static (string First, string Second) Layers(ModelSpec spec, int? layer = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind != "mlp" || spec.Widths is not { } widths)
            throw new ArgumentException($"Rescaling: only an MLP is rescaled here (a '{spec.Kind}' model has convolutions, pooling or BatchNorm between its layers).");
        if (spec.Activation != "relu")
            throw new ArgumentException($"Rescaling: activation '{spec.Activation}' is not positively homogeneous; the function would change (relu only).");
        int hidden = widths.Count - 2;
        if (hidden < 1) throw new ArgumentException("Rescaling: the MLP has no hidden layer, so no ReLU between two Linear layers.");
        int k = layer ?? hidden - 1;
        if (k < 0 || k >= hidden) throw new ArgumentException($"Rescaling: hidden layer {k} does not exist (the MLP has hidden layers 0..{hidden - 1}).", nameof(layer));
        return ($"features.fc{k}", k + 1 < hidden ? $"features.fc{k + 1}" : FeatureNetwork.ClassifierName);
    }
}
