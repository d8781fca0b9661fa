using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

/// <summary>
/// Class probabilities (N, K) in float64 with integer labels (N), checked on construction: non-empty, finite,
/// non-negative, rows summing to 1 (within 1e-4, float32 softmax rounding), labels within 0..K-1. Logits are kept
/// when known (the Fisher-Rao norm needs them). Owns its tensors, which live in host memory whatever device the model
/// ran on: predictions feed statistics and the result store, and a softmax computed on the CPU from the same logits
/// gives the same probabilities for a model on any device.
/// </summary>
public sealed class Predictions : IDisposable
{
    public const double SumTolerance = 1e-4;

    public Predictions(Tensor probabilities, Tensor labels, Tensor? logits = null)
    {
        if (probabilities.dim() != 2) throw new ArgumentException($"Probabilities must be (N, K); got shape [{string.Join(", ", probabilities.shape)}].");
        long n = probabilities.shape[0], k = probabilities.shape[1];
        if (n == 0 || k == 0) throw new ArgumentException("Predictions are empty: no samples or no classes.");
        if (labels.dim() != 1 || labels.shape[0] != n) throw new ArgumentException($"{n} predictions but labels of shape [{string.Join(", ", labels.shape)}]: lengths must match.");
        if (labels.is_floating_point()) throw new ArgumentException("Labels must be integer class indices.");
        using (var scope = NewDisposeScope())
        {
            var p = probabilities.OnDevice(CPU).to(ScalarType.Float64);
            if (!p.isfinite().all().item<bool>()) throw new NonFiniteValueException("Probabilities contain NaN or Inf.");
            if (p.lt(0).any().item<bool>()) throw new ArgumentException("Probabilities must be non-negative.");
            double worst = (p.sum(1) - 1).abs().max().item<double>();
            if (worst > SumTolerance) throw new ArgumentException($"Probabilities must sum to 1 per sample; the worst row is off by {worst:g3}.");
            var hostLabels = labels.OnDevice(CPU);
            long lo = hostLabels.min().item<long>(), hi = hostLabels.max().item<long>();
            if (lo < 0 || hi >= k) throw new ArgumentException($"Labels must lie in [0, {k - 1}]; got range [{lo}, {hi}].");
        }
        Probabilities = probabilities.OnDevice(CPU).to(ScalarType.Float64).detach().DetachFromDisposeScope();
        Labels = labels.OnDevice(CPU).to(ScalarType.Int64).detach().DetachFromDisposeScope();
        Logits = logits?.OnDevice(CPU).to(ScalarType.Float64).detach().DetachFromDisposeScope();
    }

    public Tensor Probabilities { get; }
    public Tensor Labels { get; }
    public Tensor? Logits { get; }
    public long Count => Labels.shape[0];
    public long Classes => Probabilities.shape[1];

    public static Predictions FromLogits(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var f = logits.OnDevice(CPU).to(ScalarType.Float64);
        if (!f.isfinite().all().item<bool>()) throw new NonFiniteValueException("Logits contain NaN or Inf.");
        return new Predictions(f.softmax(1), labels, f);
    }

    /// <summary>The network's predictions on every batch of <paramref name="data"/>, in evaluation mode, without gradients.</summary>
    public static Predictions Collect(nn.Module<Tensor, Tensor> network, IBatchSource data)
    {
        if (data.BatchCount == 0) throw new ArgumentException("Predictions need data; the source is empty.");
        var device = ParameterPlacement.Of(network).Device;
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var logits = new List<Tensor>();
            var labels = new List<Tensor>();
            for (int b = 0; b < data.BatchCount; b++)
            {
                // Inputs go to the network's device; labels are kept as the source holds them (predictions live in host memory).
                logits.Add(network.forward(data.GetBatch(b, device).Inputs));
                labels.Add(data.GetBatch(b).Targets);
            }
            return FromLogits(cat(logits, 0), cat(labels, 0));
        }
        finally { if (wasTraining) network.train(); }
    }

    public Tensor Predicted() => Probabilities.argmax(1);

    public void Dispose() { Probabilities.Dispose(); Labels.Dispose(); Logits?.Dispose(); }
}
