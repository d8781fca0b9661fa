using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// Stochastic weight averaging (Izmailov et al. 2018): the running mean of the parameters over the snapshots taken
/// (one per epoch from the start epoch on), w_avg = (1/k) sum_j w_j. Finish() writes the mean into the model; the
/// trainer then recomputes BatchNorm statistics for the averaged weights, which the averages of the snapshots'
/// statistics are not.
/// </summary>
public sealed class WeightAverager : IDisposable
{
    private readonly IReadOnlyList<Tensor> parameters;
    private readonly List<Tensor> sums;

    public WeightAverager(IEnumerable<Tensor> parameters)
    {
        this.parameters = parameters.ToList();
        sums = this.parameters.Select(p => zeros_like(p, dtype: ScalarType.Float64).DetachFromDisposeScope()).ToList();
    }

    public int Count { get; private set; }

    public void Snapshot()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Count; i++) sums[i].add_(parameters[i].to(ScalarType.Float64));
        Count++;
    }

    public void Finish()
    {
        if (Count == 0) throw new InvalidOperationException("SWA: no snapshot was taken (the start epoch lies after the last epoch).");
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Count; i++) parameters[i].copy_((sums[i] / Count).to(parameters[i].dtype));
    }

    public void Dispose() { foreach (var s in sums) s.Dispose(); }
}
