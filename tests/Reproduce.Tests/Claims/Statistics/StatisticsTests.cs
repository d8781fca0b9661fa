using NUnit.Framework;
using Reproduce.Claims.Statistics;

namespace Reproduce.Tests.Claims.Statistics;

[TestFixture, Category("Unit")]
public class NormalDistributionTests
{
    // Reference values of erfc (Abramowitz and Stegun, table 7.1; checked with CPython's math.erfc).
    [TestCase(0.0, 1.0)]
    [TestCase(0.5, 0.4795001221869535)]
    [TestCase(1.0, 0.15729920705028513)]
    [TestCase(2.0, 0.004677734981047265)]
    [TestCase(3.0, 2.2090496998585438e-05)]
    [TestCase(5.0, 1.5374597944280351e-12)]
    [TestCase(8.0, 1.1224297172982928e-29)]
    public void ErfcMatchesReferenceValues(double x, double expected)
    {
        Assert.That(NormalDistribution.Erfc(x), Is.EqualTo(expected).Within(1e-12).Percent);
        Assert.That(NormalDistribution.Erfc(-x), Is.EqualTo(2 - expected).Within(1e-12).Percent);
    }

    [Test]
    public void TheFamousQuantile() => Assert.That(NormalDistribution.UpperTail(1.96), Is.EqualTo(0.024997895148220435).Within(1e-10).Percent);
}

[TestFixture, Category("Unit")]
public class WilcoxonSignedRankTests
{
    /// <summary>Brute force over all 2^n sign assignments: an oracle independent of the dynamic programme.</summary>
    private static double BruteForceUpperTail(IReadOnlyList<double> d)
    {
        var nz = d.Where(v => v != 0).ToList();
        var ranks = WilcoxonSignedRank.MidRanks(nz.Select(Math.Abs).ToList());
        double observed = nz.Select((v, i) => v > 0 ? ranks[i] : 0).Sum();
        int n = nz.Count, hits = 0;
        for (int mask = 0; mask < 1 << n; mask++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) if ((mask >> i & 1) == 1) s += ranks[i];
            if (s >= observed - 1e-9) hits++;
        }
        return hits / (double)(1 << n);
    }

    [Test]
    public void PublishedCriticalValues()
    {
        // Standard tables of the signed-rank statistic (e.g. Wilcoxon, Katti and Wilcox 1970): one-sided 5% critical
        // values T = 10 for n = 10 and T = 60 for n = 20; P(T+ <= 10 | n = 10) = 43/1024.
        Assert.That(WilcoxonSignedRank.TestDifferences([-1, -2, -3, -4, 5, 6, 7, 8, 9, 10], Alternative.Less).PValue,
            Is.EqualTo(WilcoxonSignedRank.TestDifferences([1, 2, 3, 4, -5, -6, -7, -8, -9, -10], Alternative.Greater).PValue));
        // T- = 1+2+3+4 = 10 with n = 10: P(T- <= 10) = P(T+ >= 45) = 43/1024.
        Assert.That(WilcoxonSignedRank.TestDifferences([-1, -2, -3, -4, 5, 6, 7, 8, 9, 10], Alternative.Greater).PValue, Is.EqualTo(43 / 1024.0).Within(1e-15));
        // n = 20, T- = 60 (negative ranks 1..11 except 6: 66 - 6 = 60): P(T- <= 60) = 0.04865...
        var d20 = Enumerable.Range(1, 20).Select(r => (r <= 11 && r != 6) ? -1.0 * r : 1.0 * r).ToList();
        Assert.That(WilcoxonSignedRank.TestDifferences(d20, Alternative.Greater).PValue, Is.EqualTo(0.048653602600097656).Within(1e-12));
        Assert.That(WilcoxonSignedRank.TestDifferences([1, 2, 3, 4, 5], Alternative.Greater).PValue, Is.EqualTo(1 / 32.0));
        Assert.That(WilcoxonSignedRank.TestDifferences([1, 2, 3, 4, 5], Alternative.Less).PValue, Is.EqualTo(1.0));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void ExactPValueEqualsBruteForceWithTiesAndZeros(int seed)
    {
        var rng = new Random(seed);
        // Values on a coarse grid, so ties and zeros are frequent.
        var d = Enumerable.Range(0, 12).Select(_ => (double)rng.Next(-4, 6)).ToList();
        var result = WilcoxonSignedRank.TestDifferences(d, Alternative.Greater);
        Assert.That(result.Exact, Is.True);
        Assert.That(result.PValue, Is.EqualTo(BruteForceUpperTail(d)).Within(1e-12));
        Assert.That(result.NonZero, Is.EqualTo(d.Count(v => v != 0)));
    }

    [Test]
    public void NormalApproximationAboveTwentyFiveWithTieAndContinuityCorrection()
    {
        // n = 30 distinct |d|, 20 positive (ranks 11..30): T+ = 410, mean 232.5, var 30*31*61/24 = 2363.75.
        var d = Enumerable.Range(1, 30).Select(r => r > 10 ? 1.0 * r : -1.0 * r).ToList();
        var result = WilcoxonSignedRank.TestDifferences(d, Alternative.Greater);
        Assert.That(result.Exact, Is.False);
        Assert.That(result.RankSumPositive, Is.EqualTo(410));
        Assert.That(result.PValue, Is.EqualTo(NormalDistribution.UpperTail((410 - 232.5 - 0.5) / Math.Sqrt(2363.75))).Within(1e-12));
        // With ties: 26 values |d| = 1 (all one tie group of 26): variance 26*27*53/24 - (26^3-26)/48.
        var tied = Enumerable.Repeat(1.0, 20).Concat(Enumerable.Repeat(-1.0, 6)).ToList();
        var t = WilcoxonSignedRank.TestDifferences(tied, Alternative.Greater);
        double variance = 26 * 27 * 53 / 24.0 - (26.0 * 26 * 26 - 26) / 48.0;
        Assert.That(t.PValue, Is.EqualTo(NormalDistribution.UpperTail((20 * 13.5 - 26 * 27 / 4.0 - 0.5) / Math.Sqrt(variance))).Within(1e-12));
    }

    [Test]
    public void RankBiserialIsTheNormalisedRankSumDifference()
    {
        var r = WilcoxonSignedRank.Test([3, 5, 2, 8], [1, 6, 1, 4], Alternative.Greater);
        // d = 2, -1, 1, 4: |d| ranks 3, 1.5, 1.5, 4; T+ = 8.5, T- = 1.5; r = 7 / 10.
        Assert.That(r.RankSumPositive, Is.EqualTo(8.5));
        Assert.That(r.RankBiserial, Is.EqualTo(0.7).Within(1e-12));
        Assert.That(() => WilcoxonSignedRank.Test([1, 2], [1], Alternative.Greater), Throws.ArgumentException.With.Message.Contains("Paired"));
        Assert.That(WilcoxonSignedRank.Test([1, 2], [1, 2], Alternative.Greater).PValue, Is.EqualTo(1.0));
    }
}

[TestFixture, Category("Unit")]
public class MultipleTestingTests
{
    [Test]
    public void HandComputedAdjustments()
    {
        // BH: sorted p 0.001, 0.03, 0.04, 0.5 -> m p / i = 0.004, 0.06, 0.0533, 0.5 -> step-up minima 0.004, 0.0533, 0.0533, 0.5.
        double[] p = [0.001, 0.04, 0.03, 0.5];
        Assert.That(MultipleTesting.BenjaminiHochberg(p), Is.EqualTo(new[] { 0.004, 0.16 / 3, 0.16 / 3, 0.5 }).Within(1e-12));
        // BY multiplies by c(4) = 1 + 1/2 + 1/3 + 1/4 = 25/12 (capped at 1).
        double c = 25.0 / 12;
        Assert.That(MultipleTesting.BenjaminiYekutieli(p), Is.EqualTo(new[] { 0.004 * c, 0.16 / 3 * c, 0.16 / 3 * c, 1.0 }).Within(1e-12));
        Assert.That(MultipleTesting.BenjaminiHochberg([0.01, 0.02, 0.03, 0.04, 0.05]), Is.All.EqualTo(0.05).Within(1e-12));
        Assert.That(() => MultipleTesting.BenjaminiHochberg([1.5]), Throws.ArgumentException);
    }
}

[TestFixture, Category("Unit")]
public class KendallAndBootstrapTests
{
    [Test]
    public void TauBHandCases()
    {
        Assert.That(KendallTau.Test([1, 2, 3, 4], [10, 20, 30, 40]).Tau, Is.EqualTo(1));
        Assert.That(KendallTau.Test([1, 2, 3, 4], [4, 3, 2, 1]).Tau, Is.EqualTo(-1));
        // x = 1, 2, 2, 3; y = 1, 3, 2, 4: C = 5, D = 0, one tie in x: tau_b = 5 / sqrt(5 * 6).
        Assert.That(KendallTau.Test([1, 2, 2, 3], [1, 3, 2, 4]).Tau, Is.EqualTo(5 / Math.Sqrt(30)).Within(1e-12));
        // No ties, n = 10, S = 45: z = 45 / sqrt(10 * 9 * 25 / 18).
        var r = KendallTau.Test(Enumerable.Range(0, 10).Select(i => (double)i).ToList(), Enumerable.Range(0, 10).Select(i => i * 2.0).ToList(), Alternative.Greater);
        Assert.That(r.PValue, Is.EqualTo(NormalDistribution.UpperTail(45 / Math.Sqrt(125))).Within(1e-12));
    }

    [Test]
    public void BootstrapIsSeededAndBracketsTheMedian()
    {
        double[] d = [0.3, -0.1, 0.5, 0.2, 0.9, 0.4, 0.1, 0.6, 0.25, 0.35];
        var a = BootstrapInterval.MedianDifference(d, seed: 4);
        var b = BootstrapInterval.MedianDifference(d, seed: 4);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.Estimate, Is.EqualTo(0.325).Within(1e-12), "median of an even count: mean of the middle two");
        Assert.That(a.Lower, Is.LessThanOrEqualTo(a.Estimate));
        Assert.That(a.Upper, Is.GreaterThanOrEqualTo(a.Estimate));
        Assert.That(a.Lower, Is.GreaterThanOrEqualTo(-0.1));
        Assert.That(a.Upper, Is.LessThanOrEqualTo(0.9));
    }

    [Test]
    public void StratifiedKendallSumsWithinGroupStatisticsAndIgnoresTheTrendBetweenGroups()
    {
        // Two groups of three, each perfectly concordant: S = 3 each, Var S = n(n-1)(2n+5)/18 = 3*2*11/18 = 11/3 each;
        // stratified S = 6, Var = 22/3, z = 6 / sqrt(22/3) = 2.2156468, two-sided p = erfc(z / sqrt 2) = 0.02671570.
        IReadOnlyList<double> a = [1, 2, 3], b = [4, 5, 6];
        var r = KendallTau.Stratified([(a, a), (b, b)]);
        Assert.That((r.S, r.Variance, r.Tau), Is.EqualTo((6.0, 22.0 / 3, 1.0)));
        Assert.That(r.PValue, Is.EqualTo(0.02671570).Within(1e-8));

        // Simpson's paradox: within each group y falls with x, but the groups sit on a rising line. Pooled tau is
        // positive; the stratified tau is -1 and ignores the between-group pairs.
        IReadOnlyList<double> x1 = [0, 1, 2], y1 = [2, 1, 0], x2 = [10, 11, 12], y2 = [12, 11, 10];
        var pooled = KendallTau.Test([.. x1, .. x2], [.. y1, .. y2]);
        var within = KendallTau.Stratified([(x1, y1), (x2, y2)]);
        Assert.That(pooled.Tau, Is.GreaterThan(0));
        Assert.That((within.S, within.Tau), Is.EqualTo((-6.0, -1.0)));
    }
}
