using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Federated;

/// <summary>
/// FedAvg's server step (McMahan et al. 2017; debcaldarola/fedsam fedavg_server._average_updates):
/// <code>
///   w = sum_k n_k w_k / sum_k n_k
/// </code>
/// with n_k the client's training-set size. Computed as sum_k (n_k / N) w_k in float64 and rounded once to each
/// tensor's own type: the same value as the code's sum-then-divide up to that rounding, and exact where it should be:
/// one client (coefficient 1) returns its weights bit for bit, identical clients return them bit for bit (the
/// coefficients sum to 1 within a few float64 ulps, far below a float32 rounding step).
/// </summary>
public static class FederatedAveraging
{
    /// <summary>The weighted mean of the clients' tensors, position by position: <paramref name="clients"/> holds each
    /// client's sample count and its tensors (the same shapes in the same order for every client). New tensors.</summary>
    public static IReadOnlyList<Tensor> Average(IReadOnlyList<(long Samples, IReadOnlyList<Tensor> Weights)> clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        if (clients.Count == 0) throw new ArgumentException("FedAvg averages at least one client.", nameof(clients));
        if (clients.Any(c => c.Samples < 1)) throw new ArgumentException("Every client's sample count must be positive.", nameof(clients));
        int count = clients[0].Weights.Count;
        if (clients.Any(c => c.Weights.Count != count)) throw new ArgumentException("Every client must hold the same tensors.", nameof(clients));
        double total = clients.Sum(c => (double)c.Samples);
        var result = new List<Tensor>(count);
        for (int i = 0; i < count; i++)
        {
            var first = clients[0].Weights[i];
            using var scope = NewDisposeScope();
            Tensor? sum = null;
            foreach (var (samples, weights) in clients)
            {
                var w = weights[i];
                if (!w.shape.SequenceEqual(first.shape)) throw new ArgumentException($"Tensor {i}: shape [{string.Join(", ", w.shape)}] differs from [{string.Join(", ", first.shape)}].", nameof(clients));
                var term = w.detach().to(ScalarType.Float64).mul(samples / total);
                sum = sum is null ? term : sum.add_(term);
            }
            result.Add(sum!.to(first.dtype).MoveToOuterDisposeScope());
        }
        return result;
    }
}
