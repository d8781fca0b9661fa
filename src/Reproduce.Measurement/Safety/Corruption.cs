using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

/// <summary>
/// One image corruption at five severities, acting on (N, C, H, W) pixels in [0, 1] and returning pixels in
/// [0, 1]. Random corruptions draw from the generator they are given, so a suite run with one seed is repeatable.
/// <see cref="Corrupt"/> works in host memory with a CPU generator (pixels on another device are copied to the CPU and
/// the result copied back), so a seed corrupts an image into the same pixels whatever device the model is on.
/// </summary>
public sealed record Corruption(string Name, string Kind, Func<Tensor, int, Generator, Tensor> Apply)
{
    public const int Severities = 5;

    public Tensor Corrupt(Tensor pixels, int severity, Generator generator)
    {
        if (severity is < 1 or > Severities) throw new ArgumentOutOfRangeException(nameof(severity), severity, "Severity runs from 1 to 5.");
        using var scope = NewDisposeScope();
        return Apply(pixels.OnDevice(CPU), severity, generator).clamp(0, 1).OnDevice(pixels.device).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A Fashion-MNIST-C style suite (after Mu and Gilmer's MNIST-C and Hendrycks and Dietterich's CIFAR-10-C):
/// noise (Gaussian, shot, impulse, speckle), blur, photometric (contrast, brightness) and geometric (rotation,
/// shear, translation, zoom-out, pixelation) corruptions, five severities each, parameters in the tables below.
/// </summary>
public static class Corruptions
{
    private static double At(double[] table, int severity) => table[severity - 1];

    public static readonly IReadOnlyList<Corruption> Suite =
    [
        new("gaussian_noise", "noise", (x, s, g) => x + randn(x.shape, dtype: x.dtype, generator: g) * At([0.08, 0.12, 0.18, 0.26, 0.38], s)),
        new("shot_noise", "noise", (x, s, g) => { double lam = At([60, 25, 12, 5, 3], s); return poisson(x.clamp(0, 1) * lam, g) / lam; }),
        new("impulse_noise", "noise", (x, s, g) =>
        {
            double amount = At([0.03, 0.06, 0.09, 0.17, 0.27], s);
            var u = rand(x.shape, dtype: x.dtype, generator: g);
            var salt = rand(x.shape, dtype: x.dtype, generator: g).lt(0.5);
            return where(u.lt(amount), where(salt, ones_like(x), zeros_like(x)), x);
        }),
        new("speckle_noise", "noise", (x, s, g) => x + x * randn(x.shape, dtype: x.dtype, generator: g) * At([0.15, 0.2, 0.35, 0.45, 0.6], s)),
        new("gaussian_blur", "blur", (x, s, g) => Blur(x, At([0.6, 0.9, 1.2, 1.6, 2.0], s))),
        new("contrast", "photometric", (x, s, g) =>
        {
            var mean = x.mean([1, 2, 3], keepdim: true);
            return (x - mean) * At([0.5, 0.4, 0.3, 0.2, 0.1], s) + mean;
        }),
        new("brightness", "photometric", (x, s, g) => x + At([0.1, 0.2, 0.3, 0.4, 0.5], s)),
        new("rotate", "geometric", (x, s, g) =>
        {
            double a = At([8, 16, 24, 32, 40], s) * Math.PI / 180;
            return Affine(x, [Math.Cos(a), -Math.Sin(a), 0, Math.Sin(a), Math.Cos(a), 0]);
        }),
        new("shear", "geometric", (x, s, g) => Affine(x, [1, At([0.1, 0.2, 0.3, 0.4, 0.5], s), 0, 0, 1, 0])),
        new("translate", "geometric", (x, s, g) => { double t = 2 * At([0.05, 0.1, 0.15, 0.2, 0.25], s); return Affine(x, [1, 0, t, 0, 1, -t]); }),
        new("zoom_out", "geometric", (x, s, g) => { double z = 1 / At([0.9, 0.8, 0.7, 0.6, 0.5], s); return Affine(x, [z, 0, 0, 0, z, 0]); }),
        new("pixelate", "geometric", (x, s, g) =>
        {
            long h = x.shape[2], w = x.shape[3];
            double f = At([0.8, 0.6, 0.5, 0.4, 0.3], s);
            var small = nn.functional.interpolate(x, size: [Math.Max(1, (long)(h * f)), Math.Max(1, (long)(w * f))], mode: InterpolationMode.Area);
            return nn.functional.interpolate(small, size: [h, w], mode: InterpolationMode.Nearest);
        }),
    ];

    public static IReadOnlyList<string> Names => [.. Suite.Select(c => c.Name)];

    public static Corruption Get(string name) => Suite.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"Unknown corruption '{name}'. Valid: {string.Join(", ", Names)}.");

    /// <summary>Depthwise Gaussian blur with zero padding, kernel radius ceil(3 sigma).</summary>
    private static Tensor Blur(Tensor x, double sigma)
    {
        int radius = (int)Math.Ceiling(3 * sigma);
        var k1 = Enumerable.Range(-radius, 2 * radius + 1).Select(i => Math.Exp(-i * i / (2 * sigma * sigma))).ToArray();
        double sum = k1.Sum();
        var k = tensor(k1.Select(v => v / sum).ToArray(), x.dtype, device: x.device);
        long c = x.shape[1];
        var kernel = k.outer(k).expand(c, 1, 2 * radius + 1, 2 * radius + 1).contiguous();
        return nn.functional.conv2d(x, kernel, padding: [radius, radius], groups: c);
    }

    /// <summary>Resamples with the 2x3 matrix theta mapping output to input coordinates in [-1, 1]^2; outside is black.</summary>
    private static Tensor Affine(Tensor x, double[] theta)
    {
        var t = tensor(theta, x.dtype, device: x.device).reshape(1, 2, 3).expand(x.shape[0], 2, 3).contiguous();
        var grid = nn.functional.affine_grid(t, [x.shape[0], x.shape[1], x.shape[2], x.shape[3]], align_corners: false);
        return nn.functional.grid_sample(x, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
    }
}
