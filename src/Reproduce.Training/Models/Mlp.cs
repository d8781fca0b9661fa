using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// A multilayer perceptron: Linear layers named fc0..fc{L-2} with an activation after each; the last activation is
/// the penultimate feature vector; the last Linear layer is the classifier. Inputs of any shape are flattened.
/// </summary>
public sealed class Mlp : FeatureNetwork
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly TorchSharp.Modules.Linear classifier;

    public Mlp(IReadOnlyList<int> widths, string activation = "relu", long seed = 0)
        : this(ModelSpec.ForMlp(widths, activation), seed) { }

    internal Mlp(ModelSpec spec, long seed) : base("Mlp", spec)
    {
        var widths = spec.Widths ?? throw new ArgumentException("An MLP spec needs widths.");
        if (widths.Count < 2 || widths.Any(w => w < 1)) throw new ArgumentException("An MLP needs at least an input and an output width, all positive.", nameof(spec));
        using var draws = InitialWeights.Seeded(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("flatten", nn.Flatten()) };
        for (int i = 0; i + 2 < widths.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(widths[i], widths[i + 1])));
            layers.Add(($"act{i}", Activations.Create(spec.Activation)));
        }
        features = nn.Sequential(layers);
        classifier = nn.Linear(widths[^2], widths[^1]);
        RegisterComponents();
    }

    public override TorchSharp.Modules.Linear Classifier => classifier;

    public override Tensor Features(Tensor x) => features.forward(x);
}
