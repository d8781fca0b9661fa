using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// Batches cut from whole input and target tensors, in order, with caller-chosen sizes (uneven sizes are
/// allowed on purpose: they catch code that averages over batches instead of samples).
/// The batches stay where the given tensors are (the data sets live in host memory); a model on another device gets
/// copies there, made on first request and kept until disposal, so the many passes of an eigensolver or estimator
/// copy each batch once. Asked for the device the batches already live on, the source returns the batches themselves.
/// </summary>
public sealed class TensorBatchSource : IBatchSource, IDisposable
{
    private readonly List<Batch> _batches = new();
    private readonly Dictionary<string, Batch?[]> _copies = new();
    private readonly object _copiesGate = new();

    public TensorBatchSource(Tensor inputs, Tensor targets, IReadOnlyList<int> batchSizes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(batchSizes);
        if (inputs.dim() == 0 || inputs.shape[0] == 0)
            throw new ArgumentException("The data source is empty: inputs have no samples.", nameof(inputs));
        if (targets.dim() == 0 || targets.shape[0] != inputs.shape[0])
            throw new ArgumentException($"Inputs have {inputs.shape[0]} samples but targets have shape [{string.Join(", ", targets.shape)}].", nameof(targets));
        if (!DeviceTransfer.Same(inputs.device, targets.device))
            throw new ArgumentException($"Inputs are on {inputs.device} but targets on {targets.device}; a data source lives on one device.", nameof(targets));
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

    public Batch GetBatch(int index, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var batch = _batches[index];
        if (DeviceTransfer.IsOn(batch.Inputs, device)) return batch;   // inputs and targets share a device (checked on construction)
        lock (_copiesGate)
        {
            if (!_copies.TryGetValue(device.ToString(), out var copies)) _copies[device.ToString()] = copies = new Batch?[_batches.Count];
            if (copies[index] is { } copy) return copy;
            // The copies belong to the source, not to whatever dispose scope the caller is in.
            copy = new Batch(batch.Inputs.OnDevice(device).DetachFromDisposeScope(), batch.Targets.OnDevice(device).DetachFromDisposeScope());
            copies[index] = copy;
            return copy;
        }
    }

    public void Dispose()
    {
        foreach (var b in _batches) { b.Inputs.Dispose(); b.Targets.Dispose(); }
        _batches.Clear();
        foreach (var copy in _copies.Values.SelectMany(c => c).OfType<Batch>()) { copy.Inputs.Dispose(); copy.Targets.Dispose(); }
        _copies.Clear();
    }
}
