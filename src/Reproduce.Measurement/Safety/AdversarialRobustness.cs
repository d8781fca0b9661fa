using Reproduce.Measurement.Autograd;
using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

public sealed record AdversarialAccuracy(double Epsilon, double Accuracy);

public sealed record AdversarialResult(string Attack, int Steps, double StepSize, IReadOnlyList<AdversarialAccuracy> Entries);

/// <summary>
/// l-infinity attacks in pixel space (epsilon in units of pixel intensity, pixels kept in [0, 1]):
/// FGSM (Goodfellow et al. 2015): x' = clip(x + eps sign(grad_x loss)); PGD (Madry et al. 2018): from a uniform
/// random start in the eps-box, Steps steps of x' = proj(x' + alpha sign(grad_x loss)). Accuracy under attack is
/// reported per epsilon; eps = 0 gives clean accuracy. The paper uses no attack; the MNIST-family convention is
/// eps 0.3, 40 steps of 0.01 with random start.
/// Batches go to the network's device; the random start is drawn by a CPU generator and moved there.
/// </summary>
public sealed class AdversarialRobustness
{
    /// <summary>0 steps = FGSM; more = PGD with random start.</summary>
    public int Steps { get; init; } = 10;
    /// <summary>PGD step as a fraction of epsilon (2.5 eps / steps is Madry et al.'s rule; 0 uses that rule).</summary>
    public double StepFraction { get; init; } = 0;
    public long Seed { get; init; } = 0;

    public string Attack => Steps == 0 ? "FGSM" : "PGD";

    public AdversarialResult Evaluate(nn.Module<Tensor, Tensor> network, IBatchSource data, ImageFormat format, IReadOnlyList<double> epsilons)
    {
        if (epsilons.Count == 0 || epsilons.Any(e => e < 0 || !double.IsFinite(e))) throw new ArgumentException("Epsilons must be a non-empty list of finite values >= 0.");
        var device = ParameterPlacement.Of(network).Device;
        network.eval();
        var entries = new List<AdversarialAccuracy>();
        foreach (var eps in epsilons)
        {
            var generator = new Generator((ulong)Seed);
            long correct = 0;
            for (int b = 0; b < data.BatchCount; b++)
            {
                using var scope = NewDisposeScope();
                var batch = data.GetBatch(b, device);
                var adversarial = Perturb(network, format, batch.Inputs, batch.Targets, eps, generator);
                using var noGrad = no_grad();
                correct += network.forward(adversarial).argmax(1).eq(batch.Targets).sum().item<long>();
            }
            entries.Add(new AdversarialAccuracy(eps, (double)correct / data.SampleCount));
        }
        return new AdversarialResult(Attack, Steps, StepFraction > 0 ? StepFraction : Steps == 0 ? 1 : 2.5 / Steps, entries);
    }

    /// <summary>Adversarial model inputs for (inputs, labels): within eps of the clean pixels (l-infinity) and in [0, 1].</summary>
    public Tensor Perturb(nn.Module<Tensor, Tensor> network, ImageFormat format, Tensor inputs, Tensor labels, double epsilon, Generator generator)
    {
        if (epsilon < 0 || !double.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and >= 0.");
        using var scope = NewDisposeScope();
        var clean = format.ToPixels(inputs).detach();
        if (epsilon == 0) return format.FromPixels(clean).to(inputs.dtype).MoveToOuterDisposeScope();
        double alpha = Steps == 0 ? epsilon : (StepFraction > 0 ? StepFraction : 2.5 / Steps) * epsilon;
        var x = Steps == 0 ? clean.clone() : (clean + (rand(clean.shape, dtype: clean.dtype, generator: generator).OnDevice(clean.device) * 2 - 1) * epsilon).clamp(0, 1);
        int iterations = Math.Max(1, Steps);
        for (int t = 0; t < iterations; t++)
        {
            using var step = NewDisposeScope();
            var leaf = x.detach().requires_grad_(true);
            var loss = nn.functional.cross_entropy(network.forward(format.FromPixels(leaf).to(inputs.dtype)), labels, reduction: nn.Reduction.Sum);
            var g = AutogradGuard.Gradient(loss, [leaf])[0];
            var next = (leaf.detach() + g.sign() * alpha);
            next = torch.minimum(torch.maximum(next, clean - epsilon), clean + epsilon).clamp(0, 1);
            x.copy_(next);
        }
        return format.FromPixels(x).to(inputs.dtype).MoveToOuterDisposeScope();
    }
}
