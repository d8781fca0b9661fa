using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>Summed per-sample losses for a batch, so that a data set's mean is sum over batches / N.</summary>
public static class SampleLoss
{
    /// <summary>sum_i loss_i over the batch, for outputs f (N x C, or N x K for MSE) and targets y.</summary>
    public static Tensor Sum(LossKind kind, Tensor outputs, Tensor targets)
    {
        switch (kind)
        {
            case LossKind.CrossEntropy:
                if (outputs.dim() != 2)
                    throw new ArgumentException($"Cross-entropy needs logits shaped [N, C]; got [{string.Join(", ", outputs.shape)}].");
                if (targets.dim() != 1 || targets.shape[0] != outputs.shape[0])
                    throw new ArgumentException($"Cross-entropy needs {outputs.shape[0]} integer class targets; got shape [{string.Join(", ", targets.shape)}].");
                if (targets.is_floating_point())
                    throw new ArgumentException("Cross-entropy targets must be integer class indices.");
                long c = outputs.shape[1];
                if (targets.numel() > 0 && (targets.min().item<long>() < 0 || targets.max().item<long>() >= c))
                    throw new ArgumentException($"Cross-entropy targets must lie in [0, {c - 1}]; got range [{targets.min().item<long>()}, {targets.max().item<long>()}].");
                return nn.functional.cross_entropy(outputs, targets, reduction: nn.Reduction.Sum);
            case LossKind.MeanSquaredError:
                if (!outputs.shape.SequenceEqual(targets.shape))
                    throw new ArgumentException($"MSE needs targets shaped like the outputs [{string.Join(", ", outputs.shape)}]; got [{string.Join(", ", targets.shape)}].");
                // Mean over output entries per sample, summed over samples.
                long perSample = outputs.shape[0] == 0 ? 1 : outputs.numel() / outputs.shape[0];
                return (outputs - targets).square().sum() / perSample;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss kind.");
        }
    }
}
