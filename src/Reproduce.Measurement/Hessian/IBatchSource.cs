using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// A finite, replayable data set split into batches (possibly of different sizes). Objectives average over
/// samples, not batches, so <see cref="SampleCount"/> must equal the sum of the batch sizes.
/// </summary>
public interface IBatchSource
{
    int BatchCount { get; }
    long SampleCount { get; }

    /// <summary>Batch <paramref name="index"/> as the source holds it (for a <see cref="TensorBatchSource"/>, on the device of the tensors it was cut from).</summary>
    Batch GetBatch(int index);

    /// <summary>
    /// Batch <paramref name="index"/> on <paramref name="device"/>: what a model on that device is fed. Owned by the
    /// source like every batch; where the source already holds it there, the very same batch.
    /// </summary>
    Batch GetBatch(int index, Device device);
}
