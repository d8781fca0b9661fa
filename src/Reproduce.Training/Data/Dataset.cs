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

    public void Dispose() { Inputs.Dispose(); Targets.Dispose(); }
}
