using Reproduce.Runtime.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>
/// The paper's augmentation (standard for CIFAR): zero-pad each image by <see cref="Padding"/> pixels, take a
/// random crop of the original size, and flip it horizontally with probability 1/2. Offsets and flips come from
/// the caller's generator, so a seeded trainer gives the same augmented batches every run. Applied only by the
/// trainer to training batches; evaluation and measurement see the images as they are.
/// </summary>
public sealed class CropAndFlip
{
    public CropAndFlip(int padding = 4, bool flip = true)
    {
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Padding must be non-negative.");
        Padding = padding;
        Flip = flip;
    }

    public int Padding { get; }
    public bool Flip { get; }

    /// <summary>Augments a batch of shape (N, C, H, W); returns a new tensor of the same shape.</summary>
    public Tensor Apply(Tensor batch, Generator generator)
    {
        if (batch.dim() != 4) throw new ArgumentException($"Crop-and-flip needs image batches (N, C, H, W), not shape [{string.Join(", ", batch.shape)}]; use an image model spec.");
        long n = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        using var scope = NewDisposeScope();
        var offsets = randint(0, 2 * Padding + 1, new long[] { n, 2 }, generator: generator, dtype: ScalarType.Int64);
        var flips = randint(0, 2, new long[] { n }, generator: generator, dtype: ScalarType.Int64);
        var padded = nn.functional.pad(batch, new long[] { Padding, Padding, Padding, Padding });
        var dy = HostRead.ToArray<long>(offsets.select(1, 0));
        var dx = HostRead.ToArray<long>(offsets.select(1, 1));
        var flip = HostRead.ToArray<long>(flips);
        var pieces = new Tensor[n];
        for (long i = 0; i < n; i++)
        {
            var crop = padded[i].narrow(1, dy[i], h).narrow(2, dx[i], w);
            pieces[i] = Flip && flip[i] == 1 ? crop.flip(2) : crop;
        }
        return stack(pieces).MoveToOuterDisposeScope();
    }
}
