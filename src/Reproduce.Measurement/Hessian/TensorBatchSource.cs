using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// Batches cut from whole input and target tensors, in order, with caller-chosen sizes (uneven sizes are
/// allowed on purpose: they catch code that averages over batches instead of samples).
/// </summary>
public sealed class TensorBatchSource : IBatchSource, IDisposable
{
    private readonly List<Batch> _batches = new();

    public TensorBatchSource(Tensor inputs, Tensor targets, IReadOnlyList<int> batchSizes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(batchSizes);
        if (inputs.dim() == 0 || inputs.shape[0] == 0)
            throw new ArgumentException("The data source is empty: inputs have no samples.", nameof(inputs));
        if (targets.dim() == 0 || targets.shape[0] != inputs.shape[0])
            throw new ArgumentException($"Inputs have {inputs.shape[0]} samples but targets have shape [{string.Join(", ", targets.shape)}].", nameof(targets));
        if (batchSizes.Count == 0 || batchSizes.Any(s => s <= 0))
            throw new ArgumentException("Batch sizes must be a non-empty list of positive numbers.", nameof(batchSizes));
        if (batchSizes.Sum(s => (long)s) != inputs.shape[0])
            throw new ArgumentException($"Batch sizes sum to {batchSizes.Sum(s => (long)s)} but there are {inputs.shape[0]} samples.", nameof(batchSizes));
        if (inputs.is_floating_point() && !inputs.isfinite().all().item<bool>())
            throw new NonFiniteValueException("The data source's inputs contain NaN or Inf.");
        if (targets.is_floating_point() && !targets.isfinite().all().item<bool>())
            throw new NonFiniteValueException("The data source's targets contain NaN or Inf.");
        long start = 0;
        foreach (int size in batchSizes)
        {
            _batches.Add(new Batch(inputs.narrow(0, start, size).detach().clone(), targets.narrow(0, start, size).detach().clone()));
            start += size;
        }
        SampleCount = start;
        // Keep the batch tensors alive beyond any dispose scope the caller is in.
        foreach (var b in _batches) { b.Inputs.DetachFromDisposeScope(); b.Targets.DetachFromDisposeScope(); }
    }

    /// <summary>Equal batches of <paramref name="batchSize"/> (the last one smaller if needed).</summary>
    public static TensorBatchSource Uniform(Tensor inputs, Tensor targets, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentException("Batch size must be positive.", nameof(batchSize));
        long n = inputs.shape.Length == 0 ? 0 : inputs.shape[0];
        var sizes = new List<int>();
        for (long s = 0; s < n; s += batchSize) sizes.Add((int)Math.Min(batchSize, n - s));
        return new TensorBatchSource(inputs, targets, sizes);
    }

    public int BatchCount => _batches.Count;
    public long SampleCount { get; }
    public Batch GetBatch(int index) => _batches[index];

    public void Dispose()
    {
        foreach (var b in _batches) { b.Inputs.Dispose(); b.Targets.Dispose(); }
        _batches.Clear();
    }
}
