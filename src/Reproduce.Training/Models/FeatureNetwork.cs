using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// A classifier split the way the measures need it: logits = Classifier(Features(x)), where Features(x) is the
/// penultimate representation and Classifier is a single Linear layer registered under the name "classifier"
/// (so its parameters are "classifier.weight" and "classifier.bias"). Every model carries the spec that rebuilds it.
/// </summary>
public abstract class FeatureNetwork : nn.Module<Tensor, Tensor>
{
    public const string ClassifierName = "classifier";

    protected FeatureNetwork(string name, ModelSpec spec) : base(name) => Spec = spec;

    public ModelSpec Spec { get; }

    /// <summary>The last Linear layer.</summary>
    public abstract TorchSharp.Modules.Linear Classifier { get; }

    /// <summary>The penultimate features, shape (N, Classifier.in_features).</summary>
    public abstract Tensor Features(Tensor x);

    public override Tensor forward(Tensor x)
    {
        using var h = Features(x);
        return Classifier.forward(h);
    }

    /// <summary>Does the model hold BatchNorm layers (whose running statistics are state, not parameters)?</summary>
    public bool HasBatchNorm => modules().Any(m => m is TorchSharp.Modules.BatchNorm);
}
