using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>
/// Two concentric circles, scikit-learn's make_circles semantics: n/2 (rounded down) points on the outer unit
/// circle with label 0 and the rest on the inner circle of radius <c>factor</c> with label 1, angles evenly
/// spaced on [0, 2 pi) (endpoint excluded), optional Gaussian noise of std <c>noise</c>, shuffled by the seed.
/// A factor closer to 1 means a tighter decision boundary (the paper's "more complex function").
/// </summary>
public static class Circles
{
    public static Dataset Make(int n, double factor, double noise, long seed)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "Circles need at least 2 points.");
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The inner circle's factor must lie in (0, 1).");
        if (noise < 0) throw new ArgumentOutOfRangeException(nameof(noise), noise, "Noise must be non-negative.");
        int outer = n / 2, inner = n - outer;
        var xs = new float[n * 2];
        var ys = new long[n];
        for (int i = 0; i < outer; i++) { double t = 2 * Math.PI * i / outer; xs[2 * i] = (float)Math.Cos(t); xs[2 * i + 1] = (float)Math.Sin(t); ys[i] = 0; }
        for (int i = 0; i < inner; i++) { double t = 2 * Math.PI * i / inner; int k = outer + i; xs[2 * k] = (float)(factor * Math.Cos(t)); xs[2 * k + 1] = (float)(factor * Math.Sin(t)); ys[k] = 1; }
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        var x = tensor(xs, new long[] { n, 2 });
        if (noise > 0) x = x + noise * randn(new long[] { n, 2 }, generator: g);
        var perm = randperm(n, generator: g);
        return new Dataset(x.index_select(0, perm).MoveToOuterDisposeScope(), tensor(ys).index_select(0, perm).MoveToOuterDisposeScope(), $"circles(n={n}, factor={factor}, noise={noise}, seed={seed})");
    }
}
