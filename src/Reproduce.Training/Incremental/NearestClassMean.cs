using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Incremental;

/// <summary>
/// Nearest-class-mean classification on penultimate features (the code's NCM test, mt_nb_model.py): a class's prototype
/// is the mean feature vector of its samples, and a sample is given the label of the prototype at the smallest squared
/// Euclidean distance ||f(x) - c_k||^2 (ties to the first prototype in order, as argmin). The code also divides each
/// prototype by its L2 norm before the all-classes test (pnorm with p 1.0); here prototypes stay unnormalised, the
/// plain Euclidean rule of the paper's description.
/// </summary>
public static class NearestClassMean
{
    /// <summary>The mean feature vector of each class's samples, one row per class in <paramref name="classes"/>' order,
    /// model in evaluation mode, no gradient. A class without samples is an error naming it.</summary>
    public static Tensor Prototypes(FeatureNetwork model, Tensor inputs, Tensor labels, IReadOnlyList<int> classes)
    {
        model.eval();
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        var features = model.Features(inputs.to(device));
        var rows = new List<Tensor>();
        var cpuLabels = labels.cpu();
        foreach (int c in classes)
        {
            var index = cpuLabels.eq(c).nonzero().flatten();
            if (index.shape[0] == 0) throw new ArgumentException($"No sample of class {c} to make its prototype from.");
            rows.Add(features.index_select(0, index.to(device)).mean([0]));
        }
        return stack(rows, 0);
    }

    /// <summary>Squared Euclidean distances ||f_i - c_k||^2, shape (N, K).</summary>
    public static Tensor SquaredDistances(Tensor features, Tensor prototypes) =>
        (features.unsqueeze(1) - prototypes.unsqueeze(0)).square().sum(2);

    /// <summary>The label of each sample's nearest prototype: labels[argmin_k ||f_i - c_k||^2].</summary>
    public static Tensor Classify(Tensor features, Tensor prototypes, IReadOnlyList<int> labels)
    {
        var nearest = SquaredDistances(features, prototypes).argmin(1);
        return tensor(labels.Select(l => (long)l).ToArray(), device: features.device).index_select(0, nearest);
    }

    /// <summary>The fraction of <paramref name="inputs"/> whose nearest prototype has their label (evaluation mode).</summary>
    public static double Accuracy(FeatureNetwork model, Tensor inputs, Tensor targets, Tensor prototypes, IReadOnlyList<int> labels)
    {
        using var scope = NewDisposeScope();
        model.eval();
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        var predicted = Classify(model.Features(inputs.to(device)), prototypes, labels);
        return predicted.eq(targets.to(device)).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>
    /// The sessions' loss (the code's IncrementalPTFixPNLoss, w = omega = 1): on a class-major batch of Ways x Shots
    /// features, the novel prototypes are the batch's per-class means (with gradient), the old ones fixed; logits
    /// -||f_i - c_k||^2 over [novel; old] and cross-entropy against each sample's own novel prototype.
    /// </summary>
    public static Tensor PrototypeLoss(Tensor features, int shots, Tensor oldPrototypes)
    {
        long n = features.shape[0];
        if (n % shots != 0) throw new ArgumentException($"A session batch of {n} samples is not a whole number of {shots}-shot classes.");
        long ways = n / shots;
        var novel = features.reshape(ways, shots, -1).mean([1]);
        var logits = -SquaredDistances(features, cat([novel, oldPrototypes.detach()], 0));
        var target = arange(ways, device: features.device).unsqueeze(1).expand(ways, shots).reshape(-1);
        return nn.functional.cross_entropy(logits, target);
    }
}
