using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement;

/// <summary>
/// What the measures need from a classifier, and nothing more: the network (forward = logits), its penultimate
/// features phi(x), and the last linear layer (logits = W phi + b). The measurement library does not know how the
/// model was built or trained; callers adapt their models to this.
/// </summary>
public interface IFeatureModel
{
    nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>Penultimate features, shape (N, m).</summary>
    Tensor Features(Tensor x);

    /// <summary>The classifier weight W, shape (K, m): row s is neuron s's incoming weights.</summary>
    Tensor ClassifierWeight { get; }

    /// <summary>Name of the classifier weight in the network's named_parameters().</summary>
    string ClassifierWeightName { get; }

    /// <summary>The classifier bias b (K), or null when the layer has none.</summary>
    Tensor? ClassifierBias { get; }
}

/// <summary>An <see cref="IFeatureModel"/> from a network, a feature function and the classifier weight's name.</summary>
public sealed class FeatureModel : IFeatureModel
{
    private readonly Func<Tensor, Tensor> features;

    public FeatureModel(nn.Module<Tensor, Tensor> network, Func<Tensor, Tensor> features, string classifierWeightName)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        this.features = features ?? throw new ArgumentNullException(nameof(features));
        var named = network.named_parameters().ToList();
        ClassifierWeight = named.FirstOrDefault(p => p.name == classifierWeightName).parameter
            ?? throw new ArgumentException($"The network has no parameter '{classifierWeightName}'. It has: {string.Join(", ", named.Select(p => p.name))}.");
        if (ClassifierWeight.dim() != 2) throw new ArgumentException($"'{classifierWeightName}' must be a matrix (K, m).");
        ClassifierWeightName = classifierWeightName;
        string biasName = classifierWeightName.EndsWith(".weight", StringComparison.Ordinal) ? classifierWeightName[..^".weight".Length] + ".bias" : "";
        ClassifierBias = named.FirstOrDefault(p => p.name == biasName).parameter;
    }

    public Tensor? ClassifierBias { get; }

    public nn.Module<Tensor, Tensor> Network { get; }
    public Tensor ClassifierWeight { get; }
    public string ClassifierWeightName { get; }
    public Tensor Features(Tensor x) => features(x);
}
