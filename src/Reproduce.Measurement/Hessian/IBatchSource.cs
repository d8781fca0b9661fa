namespace Reproduce.Measurement.Hessian;

/// <summary>
/// A finite, replayable data set split into batches (possibly of different sizes). Objectives average over
/// samples, not batches, so <see cref="SampleCount"/> must equal the sum of the batch sizes.
/// </summary>
public interface IBatchSource
{
    int BatchCount { get; }
    long SampleCount { get; }
    Batch GetBatch(int index);
}
