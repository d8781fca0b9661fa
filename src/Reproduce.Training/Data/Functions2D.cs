using Reproduce.Runtime.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>
/// The seven 2-D regression targets of the paper's single-objective experiment, each with its known global
/// minimum (used by the tests), sampled uniformly on [-3.5, 3.5]^2.
/// </summary>
public static class Functions2D
{
    public static readonly IReadOnlyDictionary<string, Func<double, double, double>> Targets = new Dictionary<string, Func<double, double, double>>
    {
        ["sphere"] = (x, y) => x * x + y * y,
        ["booth"] = (x, y) => Math.Pow(x + 2 * y - 7, 2) + Math.Pow(2 * x + y - 5, 2),
        ["three-hump-camel"] = (x, y) => 2 * x * x - 1.05 * Math.Pow(x, 4) + Math.Pow(x, 6) / 6 + x * y + y * y,
        ["himmelblau"] = (x, y) => Math.Pow(x * x + y - 11, 2) + Math.Pow(x + y * y - 7, 2),
        ["rosenbrock"] = (x, y) => Math.Pow(1 - x, 2) + 100 * Math.Pow(y - x * x, 2),
        ["beale"] = (x, y) => Math.Pow(1.5 - x + x * y, 2) + Math.Pow(2.25 - x + x * y * y, 2) + Math.Pow(2.625 - x + x * y * y * y, 2),
        ["rastrigin"] = (x, y) => 20 + x * x - 10 * Math.Cos(2 * Math.PI * x) + y * y - 10 * Math.Cos(2 * Math.PI * y),
    };

    public static Dataset Sample(string function, int n, long seed, double half = 3.5)
    {
        if (!Targets.TryGetValue(function, out var f))
            throw new ArgumentException($"Unknown 2-D function '{function}'. Valid names: {string.Join(", ", Targets.Keys)}.", nameof(function));
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "Need at least one point.");
        using var scope = NewDisposeScope();
        var x = (rand(new long[] { n, 2 }, dtype: ScalarType.Float64, generator: new Generator((ulong)seed)) * 2 - 1) * half;
        var pts = HostRead.ToArray<double>(x);
        var y = new double[n];
        for (int i = 0; i < n; i++) y[i] = f(pts[2 * i], pts[2 * i + 1]);
        return new Dataset(x.to(ScalarType.Float32).MoveToOuterDisposeScope(), tensor(y, new long[] { n, 1 }).to(ScalarType.Float32).MoveToOuterDisposeScope(), $"{function}(n={n}, seed={seed})");
    }
}
