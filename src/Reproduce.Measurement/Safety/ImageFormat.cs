using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

/// <summary>
/// How model inputs relate to images: each sample is an image of <see cref="Channels"/> x Height x Width, standardised
/// per channel ((pixel - mean) / std, pixels in [0, 1]), and fed to the model either as images or flattened.
/// Corruptions and attacks work in pixel space and must stay in [0, 1] there; this converts both ways.
/// </summary>
public sealed record ImageFormat(int Channels, int Height, int Width, IReadOnlyList<double> Mean, IReadOnlyList<double> Std, bool Flattened)
{
    public long PixelCount => (long)Channels * Height * Width;

    /// <summary>Per-channel values as a (1, C, 1, 1) tensor in the data's dtype on the data's device.</summary>
    private Tensor Column(IReadOnlyList<double> v, Tensor like)
    {
        if (v.Count != 1 && v.Count != Channels) throw new ArgumentException($"Need 1 or {Channels} per-channel values; got {v.Count}.");
        return tensor(v.Count == 1 ? Enumerable.Repeat(v[0], Channels).ToArray() : v.ToArray(), like.dtype, device: like.device).reshape(1, Channels, 1, 1);
    }

    /// <summary>Model inputs to (N, C, H, W) pixels.</summary>
    public Tensor ToPixels(Tensor inputs)
    {
        if (inputs.shape[0] > 0 && inputs.numel() / inputs.shape[0] != PixelCount)
            throw new ArgumentException($"Inputs of shape [{string.Join(", ", inputs.shape)}] do not hold {Channels}x{Height}x{Width} images.");
        using var scope = NewDisposeScope();
        var x = inputs.reshape(inputs.shape[0], Channels, Height, Width);
        return (x * Column(Std, x) + Column(Mean, x)).MoveToOuterDisposeScope();
    }

    /// <summary>(N, C, H, W) pixels back to model inputs.</summary>
    public Tensor FromPixels(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var x = (pixels - Column(Mean, pixels)) / Column(Std, pixels);
        return (Flattened ? x.reshape(x.shape[0], PixelCount) : x).MoveToOuterDisposeScope();
    }
}
