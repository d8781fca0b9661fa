namespace Reproduce.Training.Federated;

/// <summary>
/// The federated simulation's own random numbers: SplitMix64 (Steele, Lea, Flood 2014), a 64-bit generator whose
/// output is a fixed function of its seed on every platform and runtime, so a split and a client schedule are the same
/// wherever the suite runs (System.Random's algorithm is an implementation detail of .NET; libtorch's gamma sampler is
/// not seeded per call). Not for cryptography.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong state = seed;

    public ulong NextUInt64()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform on [0, 1): the top 53 bits as a fraction.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform on {0, ..., n - 1}, without modulo bias (rejection of the short last block).</summary>
    public int NextInt(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "The range must hold at least one value.");
        ulong bound = (ulong)n, limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (int)(x % bound);
    }

    /// <summary>Standard normal, by Box-Muller (one of the pair; the other is discarded so every call draws two uniforms).</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>log of a Gamma(shape, 1) draw. Marsaglia and Tsang (2000) for shape >= 1; for shape &lt; 1 the boost
    /// G(a) = G(a + 1) U^(1/a), taken in logs, log G(a + 1) + log(U) / a, because U^(1/a) underflows to 0 for the tiny
    /// shapes a Dirichlet of small alpha has (alpha/10 = 0.005 for alpha 0.05: U^200).</summary>
    public double NextLogGamma(double shape)
    {
        if (!(shape > 0 && double.IsFinite(shape))) throw new ArgumentOutOfRangeException(nameof(shape), shape, "A Gamma shape must be positive and finite.");
        if (shape < 1) return NextLogGamma(shape + 1) + Math.Log(1.0 - NextDouble()) / shape;
        double d = shape - 1.0 / 3.0, c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = NextNormal(), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1.0 - NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return Math.Log(d * v);
        }
    }

    /// <summary>A seed for a separate stream: SplitMix64's output mixing of (seed, stream, index), non-negative as a long,
    /// so streams for different purposes of one run (the split, each round's sample, each client's shuffle) do not
    /// share draws even when they share the run's seed.</summary>
    public static long Derive(long seed, long stream, long index)
    {
        var mix = new SplitMix64((ulong)seed);
        ulong a = mix.NextUInt64() ^ (ulong)stream * 0xD1B54A32D192ED03UL;
        ulong b = new SplitMix64(a).NextUInt64() ^ (ulong)index * 0x8CB92BA72F3D8DD7UL;
        return (long)(new SplitMix64(b).NextUInt64() >> 1);
    }
}
