using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// A multilayer perceptron: Linear layers named fc0..fc{L-1} with an activation between them. The last hidden
/// activation is the penultimate feature vector; the last Linear layer is the classifier.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _features;
    private readonly nn.Module<Tensor, Tensor> _classifier;

    public Mlp(IReadOnlyList<int> widths, string activation = "relu", long seed = 0) : base("Mlp")
    {
        if (widths.Count < 2 || widths.Any(w => w < 1)) throw new ArgumentException("An MLP needs at least an input and an output width, all positive.", nameof(widths));
        torch.manual_seed(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i + 2 < widths.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(widths[i], widths[i + 1])));
            layers.Add(($"act{i}", activation switch
            {
                "relu" => nn.ReLU(),
                "tanh" => nn.Tanh(),
                _ => throw new ArgumentException($"Unknown activation '{activation}'. Valid: relu, tanh.", nameof(activation)),
            }));
        }
        _features = nn.Sequential(layers);
        _classifier = nn.Linear(widths[^2], widths[^1]);
        ClassifierName = "classifier";
        RegisterComponents();
    }

    /// <summary>Prefix of the classifier's parameters in named_parameters() ("classifier.weight", "classifier.bias").</summary>
    public string ClassifierName { get; }

    public Tensor Features(Tensor x) => _features.forward(x);

    public override Tensor forward(Tensor x)
    {
        using var h = _features.forward(x);
        return _classifier.forward(h);
    }
}
