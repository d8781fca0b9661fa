using FsCheck;
using FsCheck.Fluent;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Support;

public enum SpectrumKind { Spread, Indefinite, Clustered, NearDegenerate, Decaying }

/// <summary>
/// A random symmetric matrix with a known spectrum: A = Q diag(lambda) Q^T, Q from the QR of a Gaussian matrix.
/// Everything follows from (Size, Kind, Seed), so a shrunk counterexample prints as a readable triple.
/// </summary>
public sealed record SpectrumCase(int Size, SpectrumKind Kind, int Seed)
{
    public double[] Eigenvalues()
    {
        var rng = new Random(Seed);
        double[] v = Kind switch
        {
            SpectrumKind.Spread => Enumerable.Range(0, Size).Select(_ => 0.5 + 9.5 * rng.NextDouble()).ToArray(),
            SpectrumKind.Indefinite => Enumerable.Range(0, Size).Select(_ => -5 + 10 * rng.NextDouble()).ToArray(),
            SpectrumKind.Clustered => Enumerable.Range(0, Size).Select(i => (i % 2 == 0 ? 1.0 : 10.0) + 0.01 * rng.NextDouble()).ToArray(),
            SpectrumKind.NearDegenerate => NearDegenerate(rng),
            SpectrumKind.Decaying => Enumerable.Range(0, Size).Select(i => 10 * Math.Pow(0.7, i) * (1 + 0.01 * rng.NextDouble())).ToArray(),
            _ => throw new ArgumentOutOfRangeException(),
        };
        Array.Sort(v);
        return v;
    }

    // A bulk plus, at both ends, a pair separated by 1e-4 of the scale.
    private double[] NearDegenerate(Random rng)
    {
        var v = Enumerable.Range(0, Size).Select(_ => -1 + 2 * rng.NextDouble()).ToArray();
        v[0] = 5; v[1] = 5 + 5e-4;
        if (Size > 3) { v[2] = -3; v[3] = -3 - 3e-4; }
        return v;
    }

    public Tensor Matrix()
    {
        var g = new Generator((ulong)Seed + 17);
        var gaussian = randn(new long[] { Size, Size }, dtype: ScalarType.Float64, generator: g);
        var (q, _) = linalg.qr(gaussian);
        var lambda = tensor(Eigenvalues(), dtype: ScalarType.Float64);
        var a = q.mm(diag(lambda)).mm(q.t());
        return (a + a.t()) / 2;
    }

    public override string ToString() => $"SpectrumCase(Size={Size}, Kind={Kind}, Seed={Seed})";
}

public static class SpectrumCases
{
    public static Arbitrary<SpectrumCase> Arbitrary(int minSize = 4, int maxSize = 40)
    {
        var gen = from size in Gen.Choose(minSize, maxSize)
                  from kind in Gen.Elements(Enum.GetValues<SpectrumKind>())
                  from seed in Gen.Choose(0, 1_000_000)
                  select new SpectrumCase(size, kind, seed);
        return Arb.From(gen, Shrink);
    }

    // Shrink towards small matrices and simple spectra, keeping the seed.
    private static IEnumerable<SpectrumCase> Shrink(SpectrumCase c)
    {
        if (c.Size > 4) yield return c with { Size = Math.Max(4, c.Size / 2) };
        if (c.Size > 4) yield return c with { Size = c.Size - 1 };
        if (c.Kind != SpectrumKind.Spread) yield return c with { Kind = SpectrumKind.Spread };
    }
}
