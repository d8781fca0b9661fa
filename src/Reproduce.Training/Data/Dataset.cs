using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>Inputs and targets as whole tensors (data sets here fit in memory), with seeded subsets.</summary>
public sealed class Dataset : IDisposable
{
    public Dataset(Tensor inputs, Tensor targets, string name)
    {
        if (inputs.shape[0] != targets.shape[0])
            throw new ArgumentException($"{name}: {inputs.shape[0]} inputs but {targets.shape[0]} targets.");
        Inputs = inputs.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
        Name = name;
    }

    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public string Name { get; }
    public long Count => Inputs.shape[0];

    /// <summary>A deterministic subset of <paramref name="count"/> samples: the first entries of a seeded permutation.</summary>
    public Dataset Subset(long count, long seed)
    {
        if (count < 1 || count > Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"{Name}: a subset must hold 1 to {Count} samples.");
        using var scope = NewDisposeScope();
        var index = randperm(Count, generator: new Generator((ulong)seed)).narrow(0, 0, count);
        return new Dataset(Inputs.index_select(0, index), Targets.index_select(0, index), $"{Name}[subset {count}, seed {seed}]");
    }

    /// <summary>The <paramref name="count"/> samples that follow the first <paramref name="skip"/> of the same seeded
    /// permutation as <see cref="Subset"/>: disjoint from Subset(skip, seed), and the same samples whatever else is cut.</summary>
    public Dataset After(long skip, long count, long seed)
    {
        if (skip < 0 || count < 1 || skip + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{Name}: {count} samples after the first {skip} need {skip + count}; the set holds {Count}.");
        using var scope = NewDisposeScope();
        var index = randperm(Count, generator: new Generator((ulong)seed)).narrow(0, skip, count);
        return new Dataset(Inputs.index_select(0, index), Targets.index_select(0, index), $"{Name}[{count} after {skip}, seed {seed}]");
    }

    /// <summary>
    /// The mean squared error of the best constant predictor of the (regression) targets: with targets y_ik (sample i,
    /// output k) and column means m_k, (1 / (n K)) sum_ik (y_ik - m_k)^2, in float64, i.e. the population variance (divide
    /// by n, not n - 1) averaged over the outputs, the same averaging as the MSE loss. So for any model the MSE over this
    /// is 1 - R^2: 1 for a model that predicts the mean, 0 for a perfect fit, whatever the targets' scale. A relative
    /// train-loss target and the train_loss_relative metric both divide by it.
    /// </summary>
    public double TargetVariance()
    {
        if (Targets.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new InvalidOperationException($"{Name}: a target variance needs real-valued (regression) targets, not {Targets.dtype}.");
        using var scope = NewDisposeScope();
        var y = Targets.to(ScalarType.Float64).reshape(Count, -1);
        return (y - y.mean([0L], keepdim: true)).square().mean().item<double>();
    }

    public void Dispose() { Inputs.Dispose(); Targets.Dispose(); }
}
