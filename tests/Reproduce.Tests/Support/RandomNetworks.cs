using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Support;

public enum Activation { Tanh, Relu }

/// <summary>Small random networks and data for float64 Hessian checks.</summary>
public static class RandomNetworks
{
    public static nn.Module<Tensor, Tensor> Mlp(IReadOnlyList<int> widths, Activation activation, long seed, bool bias = true)
    {
        torch.manual_seed(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i + 1 < widths.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(widths[i], widths[i + 1], hasBias: bias, dtype: ScalarType.Float64)));
            if (i + 2 < widths.Count)
                layers.Add(($"act{i}", activation == Activation.Tanh ? nn.Tanh() : nn.ReLU()));
        }
        var model = nn.Sequential(layers);
        model.eval();
        return model;
    }

    public static (Tensor X, Tensor Y) ClassificationData(int n, int inputs, int classes, long seed)
    {
        var g = new Generator((ulong)seed);
        var x = randn(new long[] { n, inputs }, dtype: ScalarType.Float64, generator: g);
        var y = randint(0, classes, new long[] { n }, dtype: ScalarType.Int64, generator: g);
        return (x, y);
    }

    public static (Tensor X, Tensor Y) RegressionData(int n, int inputs, int outputs, long seed)
    {
        var g = new Generator((ulong)seed);
        var x = randn(new long[] { n, inputs }, dtype: ScalarType.Float64, generator: g);
        var y = randn(new long[] { n, outputs }, dtype: ScalarType.Float64, generator: g);
        return (x, y);
    }

    /// <summary>Uneven batch sizes summing to n (e.g. 7 = 3 + 1 + 3), so wrong averaging over batches shows.</summary>
    public static int[] UnevenBatches(int n, long seed)
    {
        var rng = new Random((int)seed);
        var sizes = new List<int>();
        int left = n;
        while (left > 0)
        {
            int s = Math.Min(left, rng.Next(1, Math.Max(2, n / 2)));
            sizes.Add(s);
            left -= s;
        }
        if (sizes.Count == 1 && n > 1) { sizes[0] = n - 1; sizes.Add(1); }
        return sizes.ToArray();
    }
}
