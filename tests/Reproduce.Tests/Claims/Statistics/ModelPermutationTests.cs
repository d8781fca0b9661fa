using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Claims.Statistics;

namespace Reproduce.Tests.Claims.Statistics;

/// <summary>
/// The paired permutation test over models against a hand case (n = 2, all four swap patterns written out) and
/// against a brute-force enumeration written independently (lists of the models on each side, every pair averaged).
/// </summary>
[TestFixture, Category("Unit")]
public class ModelPermutationTests
{
    /// <summary>Models 0..n-1 claimed, n..2n-1 reference, seed s pairs s with n + s.</summary>
    private static List<(int Claimed, int Reference)> Pairs(int n) => [.. Enumerable.Range(0, n).Select(s => (s, n + s))];

    private static double[,] Symmetric(int size, Func<int, int, double> d)
    {
        var m = new double[size, size];
        for (int i = 0; i < size; i++)
            for (int j = i + 1; j < size; j++) m[i, j] = m[j, i] = d(i, j);
        return m;
    }

    [Test]
    public void TwoSeedsByHand()
    {
        // Models A1 = 0, A2 = 1, R1 = 2, R2 = 3. d(A1,A2) = 0.1, d(R1,R2) = 0.4, d(A1,R2) = 0.3, d(R1,A2) = 0.2; the
        // same-seed pairs d(A1,R1), d(A2,R2) never enter T (set to 9 to show it). The four patterns:
        //   none swapped: 0.1 - 0.4 = -0.3;   seed 1 swapped: d(R1,A2) - d(A1,R2) = -0.1;
        //   seed 2 swapped: d(A1,R2) - d(R1,A2) = 0.1;   both swapped: 0.4 - 0.1 = 0.3.
        var d = new double[4, 4];
        void Set(int i, int j, double v) { d[i, j] = v; d[j, i] = v; }
        Set(0, 1, 0.1); Set(2, 3, 0.4); Set(0, 3, 0.3); Set(2, 1, 0.2); Set(0, 2, 9); Set(1, 3, 9);
        var r = ModelPermutationTest.Test(d, Pairs(2));
        Assert.Multiple(() =>
        {
            Assert.That(r.Statistic, Is.EqualTo(-0.3).Within(1e-15));
            Assert.That(r.Permutations, Is.EqualTo(4));
            Assert.That(r.Exact, Is.True);
            Assert.That(r.PLess, Is.EqualTo(0.25), "only the identity is <= -0.3");
            Assert.That(r.PGreater, Is.EqualTo(1.0), "every pattern is >= -0.3");
            Assert.That(r.PTwoSided, Is.EqualTo(0.5), "|T| >= 0.3: the identity and both swapped");
        });
    }

    /// <summary>The brute force: for each subset of swapped seeds, the lists of models on each side and the mean of d over their pairs.</summary>
    private static (double T, double Two, double Greater, double Less) BruteForce(double[,] d, int n)
    {
        double MeanPairs(List<int> models)
        {
            double sum = 0; int count = 0;
            for (int i = 0; i < models.Count; i++)
                for (int j = i + 1; j < models.Count; j++) { sum += d[models[i], models[j]]; count++; }
            return sum / count;
        }
        var values = new List<double>();
        for (int mask = 0; mask < 1 << n; mask++)
        {
            var claimed = Enumerable.Range(0, n).Select(s => (mask >> s & 1) == 1 ? n + s : s).ToList();
            var reference = Enumerable.Range(0, n).Select(s => (mask >> s & 1) == 1 ? s : n + s).ToList();
            values.Add(MeanPairs(claimed) - MeanPairs(reference));
        }
        double t = values[0], tol = 1e-9;
        return (t, values.Count(v => Math.Abs(v) >= Math.Abs(t) - tol) / (double)values.Count,
            values.Count(v => v >= t - tol) / (double)values.Count, values.Count(v => v <= t + tol) / (double)values.Count);
    }

    [TestCase(2, 1)]
    [TestCase(3, 2)]
    [TestCase(5, 3)]
    [TestCase(8, 4)]
    [TestCase(8, 5)]
    public void MatchesBruteForceEnumeration(int n, int seed)
    {
        var rng = new Random(seed);
        // Values on a coarse grid, so ties between permuted statistics occur.
        var d = Symmetric(2 * n, (_, _) => rng.Next(0, 6) / 10.0);
        var r = ModelPermutationTest.Test(d, Pairs(n));
        var (t, two, greater, less) = BruteForce(d, n);
        Assert.Multiple(() =>
        {
            Assert.That(r.Statistic, Is.EqualTo(t).Within(1e-12));
            Assert.That(r.PTwoSided, Is.EqualTo(two));
            Assert.That(r.PGreater, Is.EqualTo(greater));
            Assert.That(r.PLess, Is.EqualTo(less));
            Assert.That(r.Permutations, Is.EqualTo(1 << n));
        });
    }

    [Test]
    public void TenSeedsWithOneSideIdenticalGiveTheSmallestPossibleP()
    {
        // Claimed models identical (d = 0 among them), reference models each different on its own point out of 10:
        // d(R_s, R_t) = 0.2, d(A_s, R_t) = 0.1. With k seeds swapped T = 0.2 (C(k,2) - C(10-k,2)) / 45: only k = 0 reaches
        // -0.2 and only k = 10 reaches +0.2, so p two-sided = 2/1024, p less = 1/1024.
        const int n = 10;
        var d = Symmetric(2 * n, (i, j) => (i < n, j < n) switch { (true, true) => 0, (false, false) => 0.2, _ => 0.1 });
        var r = ModelPermutationTest.Test(d, Pairs(n));
        Assert.Multiple(() =>
        {
            Assert.That(r.Statistic, Is.EqualTo(-0.2).Within(1e-15));
            Assert.That(r.PTwoSided, Is.EqualTo(2.0 / 1024));
            Assert.That(r.PLess, Is.EqualTo(1.0 / 1024));
            Assert.That(r.PGreater, Is.EqualTo(1.0));
            Assert.That(r.Exact, Is.True);
        });
    }

    [Test]
    public void AboveTheExactLimitASeededMonteCarloSampleAgreesWithTheExactP()
    {
        var rng = new Random(7);
        const int n = ModelPermutationTest.ExactLimit + 2;
        // The claimed side a little less spread than the reference side, with noise: a p well inside (0, 1).
        var d = Symmetric(2 * n, (i, j) => 0.3 + (i < n && j < n ? -0.02 : i >= n && j >= n ? 0.02 : 0) + 0.1 * rng.NextDouble());
        var mc = ModelPermutationTest.Test(d, Pairs(n), samples: 4000, seed: 1);
        var again = ModelPermutationTest.Test(d, Pairs(n), samples: 4000, seed: 1);
        Assert.Multiple(() =>
        {
            Assert.That(mc.Exact, Is.False);
            Assert.That(mc.Method, Does.StartWith("Monte Carlo"));
            Assert.That(mc.Permutations, Is.EqualTo(2 + 2 * 4000), "the identity, its complement, and each draw with its complement");
            Assert.That(again, Is.EqualTo(mc), "seeded");
            Assert.That(mc.PTwoSided, Is.EqualTo(TwoSided.FromOneSided(mc.PGreater, mc.PLess)), "the sample is symmetric");
        });
        // The exact p over all 2^18 patterns, by the independent brute force.
        var (_, two, _, _) = BruteForce(d, n);
        Assert.That(mc.PTwoSided, Is.EqualTo(two).Within(0.03), $"exact {two}");
    }

    [Test]
    public void TheBootstrapIntervalHoldsTheObservedStatistic()
    {
        var rng = new Random(3);
        var d = Symmetric(20, (i, j) => rng.NextDouble() * (i < 10 && j < 10 ? 0.5 : 1));
        var r = ModelPermutationTest.Test(d, Pairs(10));
        var ci = ModelPermutationTest.Interval(d, Pairs(10));
        Assert.That(ci.Estimate, Is.EqualTo(r.Statistic).Within(1e-12));
        Assert.That(ci.Lower, Is.LessThanOrEqualTo(ci.Estimate));
        Assert.That(ci.Upper, Is.GreaterThanOrEqualTo(ci.Estimate));
        Assert.That(ci.Upper, Is.LessThan(0), "the claimed side is clearly less spread");
    }

    [Test]
    public void BadInputIsRefused()
    {
        var d = Symmetric(4, (_, _) => 0.1);
        Assert.Multiple(() =>
        {
            Assert.That(() => ModelPermutationTest.Test(d, Pairs(1)), Throws.ArgumentException.With.Message.Contains("at least two seeds"));
            Assert.That(() => ModelPermutationTest.Test(d, [(0, 2), (1, 2)]), Throws.ArgumentException.With.Message.Contains("exactly one seed"));
            Assert.That(() => ModelPermutationTest.Test(d, [(0, 2), (1, 4)]), Throws.ArgumentException.With.Message.Contains("outside"));
            var asymmetric = (double[,])d.Clone(); asymmetric[0, 1] = 0.3;
            Assert.That(() => ModelPermutationTest.Test(asymmetric, Pairs(2)), Throws.ArgumentException.With.Message.Contains("not symmetric"));
            var nan = (double[,])d.Clone(); nan[0, 1] = nan[1, 0] = double.NaN;
            Assert.That(() => ModelPermutationTest.Test(nan, Pairs(2)), Throws.ArgumentException.With.Message.Contains("NaN"));
        });
    }
}

/// <summary>Laws of the permutation test over models on any matrix (values on a coarse grid, so ties are common).</summary>
[TestFixture, Category("Property")]
public class ModelPermutationPropertyTests
{
    /// <summary>n in 2..7 and the 2n x 2n upper triangle on a grid of tenths.</summary>
    private static Arbitrary<(int N, int[] Upper)> Matrices() =>
        (from n in Gen.Choose(2, 7)
         from upper in Gen.Choose(0, 5).ArrayOf(2 * n * (2 * n - 1) / 2)
         select (n, upper)).ToArbitrary();

    private static double[,] Build(int n, int[] upper)
    {
        var d = new double[2 * n, 2 * n];
        int k = 0;
        for (int i = 0; i < 2 * n; i++)
            for (int j = i + 1; j < 2 * n; j++) d[i, j] = d[j, i] = upper[k++] / 10.0;
        return d;
    }

    private static List<(int Claimed, int Reference)> Pairs(int n) => [.. Enumerable.Range(0, n).Select(s => (s, n + s))];

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property PValuesAreInZeroOneAndTheTwoSidedOneIsTwiceTheSmallerTail() => Prop.ForAll(Matrices(), m =>
    {
        var r = ModelPermutationTest.Test(Build(m.N, m.Upper), Pairs(m.N));
        bool inRange = new[] { r.PTwoSided, r.PGreater, r.PLess }.All(p => p is > 0 and <= 1);
        // The null is symmetric (complement patterns negate T), so the |T| count is twice the smaller tail.
        bool twoSided = r.PTwoSided == TwoSided.FromOneSided(r.PGreater, r.PLess);
        // Together the one-sided tails cover every pattern (they overlap at the observed value).
        bool cover = r.PGreater + r.PLess >= 1;
        return (inRange && twoSided && cover).Label($"T {r.Statistic}, p two {r.PTwoSided}, greater {r.PGreater}, less {r.PLess}");
    });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property IdenticalRegimesGivePOne() => Prop.ForAll(Matrices(), m =>
    {
        // A_s and R_s the same model: every d depends on seeds only, so every permuted T is 0.
        var n = m.N;
        var seedsOnly = Build(n, m.Upper);
        var d = new double[2 * n, 2 * n];
        for (int i = 0; i < 2 * n; i++)
            for (int j = 0; j < 2 * n; j++) d[i, j] = i % n == j % n ? 0 : seedsOnly[Math.Min(i % n, j % n), Math.Max(i % n, j % n)];
        var r = ModelPermutationTest.Test(d, Pairs(n));
        return (r.Statistic == 0 && r.PTwoSided == 1 && r.PGreater == 1 && r.PLess == 1).Label($"T {r.Statistic}, p {r.PTwoSided}");
    });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property RelabellingSeedsChangesNothing() => Prop.ForAll(Matrices(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (m, shuffle) =>
    {
        var d = Build(m.N, m.Upper);
        var pairs = Pairs(m.N);
        // A seeded Fisher-Yates shuffle of the seed order (the matrix stays: only which seed is called which moves).
        var relabelled = pairs.ToList();
        var rng = new Random(shuffle);
        for (int i = relabelled.Count - 1; i > 0; i--) { int j = rng.Next(i + 1); (relabelled[i], relabelled[j]) = (relabelled[j], relabelled[i]); }
        var a = ModelPermutationTest.Test(d, pairs);
        var b = ModelPermutationTest.Test(d, relabelled);
        return (Math.Abs(a.Statistic - b.Statistic) <= 1e-12 && a.PTwoSided == b.PTwoSided && a.PGreater == b.PGreater && a.PLess == b.PLess)
            .Label($"{a} vs {b}");
    });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property ExchangingTheRegimesNegatesTAndSwapsTheTails() => Prop.ForAll(Matrices(), m =>
    {
        var d = Build(m.N, m.Upper);
        var a = ModelPermutationTest.Test(d, Pairs(m.N));
        var b = ModelPermutationTest.Test(d, [.. Pairs(m.N).Select(p => (p.Reference, p.Claimed))]);
        return (b.Statistic == -a.Statistic && a.PTwoSided == b.PTwoSided && a.PGreater == b.PLess && a.PLess == b.PGreater).Label($"{a} vs {b}");
    });
}
