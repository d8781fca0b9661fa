using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// A deep linear network x -> W_L ... W_2 W_1 x: bias-free Linear layers fc0..fc{L-2} with no activation between them
/// (the features), then a bias-free classifier W_L. Trained on the identity inputs of the matrix-factorisation data it
/// is deep matrix factorisation (Kamber and Parhi): the loss is a function of the factors' product alone.
/// </summary>
public sealed class LinearChain : FeatureNetwork
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly TorchSharp.Modules.Linear classifier;
    private readonly IReadOnlyList<TorchSharp.Modules.Linear> layers;

    internal LinearChain(ModelSpec spec, long seed) : base("LinearChain", spec)
    {
        var widths = spec.Widths ?? throw new ArgumentException("A linear model spec needs widths.");
        if (widths.Count < 3 || widths.Any(w => w < 1))
            throw new ArgumentException("A linear model needs at least two factors (three widths: input, hidden, output), all positive.", nameof(spec));
        if (spec.Activation != "identity")
            throw new ArgumentException($"Model spec: a linear model has no activation; its activation must be 'identity', not '{spec.Activation}'.");
        using var draws = InitialWeights.Seeded(seed);
        var hidden = new List<TorchSharp.Modules.Linear>();
        var named = new List<(string, nn.Module<Tensor, Tensor>)> { ("flatten", nn.Flatten()) };
        for (int i = 0; i + 2 < widths.Count; i++)
        {
            var layer = nn.Linear(widths[i], widths[i + 1], hasBias: false);
            hidden.Add(layer);
            named.Add(($"fc{i}", layer));
        }
        features = nn.Sequential(named);
        classifier = nn.Linear(widths[^2], widths[^1], hasBias: false);
        layers = [.. hidden, classifier];
        RegisterComponents();
    }

    public override TorchSharp.Modules.Linear Classifier => classifier;

    public override Tensor Features(Tensor x) => features.forward(x);

    /// <summary>The factors W_1 (first layer) ... W_L (the classifier), the live weight tensors (W_l is d_l x d_{l-1}).</summary>
    public IReadOnlyList<Tensor> Factors => [.. layers.Select(l => l.weight!)];
}
