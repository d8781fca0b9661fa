using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

/// <summary>Accuracy, negative log-likelihood and Brier score of a set of predictions.</summary>
public static class ClassificationMetrics
{
    /// <summary>Fraction of samples whose arg-max class is the label (ties go to the lowest index, as torch.argmax).</summary>
    public static double Accuracy(Predictions p)
    {
        using var scope = NewDisposeScope();
        return p.Predicted().eq(p.Labels).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>-mean_i log p_i[y_i]; from the logits (log-softmax) when known, which stays finite for confident errors.</summary>
    public static double NegativeLogLikelihood(Predictions p)
    {
        using var scope = NewDisposeScope();
        var logProb = p.Logits is { } f ? f.log_softmax(1) : p.Probabilities.clamp_min(double.Epsilon).log();
        return -logProb.gather(1, p.Labels.unsqueeze(1)).mean().item<double>();
    }

    /// <summary>Brier score, mean_i sum_k (p_ik - 1[k = y_i])^2, in [0, 2].</summary>
    public static double Brier(Predictions p)
    {
        using var scope = NewDisposeScope();
        var onehot = nn.functional.one_hot(p.Labels, p.Classes).to(ScalarType.Float64);
        return (p.Probabilities - onehot).square().sum(1).mean().item<double>();
    }

    /// <summary>Generalisation gap in percentage points: 100 (train accuracy - test accuracy), both in evaluation mode.</summary>
    public static double GeneralisationGapPercent(double trainAccuracy, double testAccuracy)
    {
        if (trainAccuracy is < 0 or > 1 || testAccuracy is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(trainAccuracy), "Accuracies are fractions in [0, 1].");
        return 100 * (trainAccuracy - testAccuracy);
    }
}
