using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Claims.Statistics;

namespace Reproduce.Tests.Claims.Statistics;

/// <summary>
/// Laws the statistics must obey on any data (paired differences on a coarse grid, so ties and zeros are common).
/// A counterexample shrinks to a short list of integers.
/// </summary>
[TestFixture, Category("Property")]
public class StatisticsPropertyTests
{
    private static Arbitrary<int[]> Differences() =>
        Gen.Choose(-5, 5).ArrayOf().Where(a => a.Length is >= 1 and <= 20).ToArbitrary();

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property WilcoxonIsAntisymmetricAndAPValue() => Prop.ForAll(Differences(), d =>
    {
        var x = d.Select(v => (double)v).ToList();
        var greater = WilcoxonSignedRank.TestDifferences(x, Alternative.Greater);
        var lessOfNegated = WilcoxonSignedRank.TestDifferences(x.Select(v => -v).ToList(), Alternative.Less);
        bool symmetric = Math.Abs(greater.PValue - lessOfNegated.PValue) < 1e-12;
        bool inRange = greater.PValue is > 0 and <= 1;
        // The two one-sided p-values overlap at the observed statistic: together they cover every outcome.
        var less = WilcoxonSignedRank.TestDifferences(x, Alternative.Less);
        bool cover = greater.PValue + less.PValue >= 1 - 1e-12;
        bool zerosIgnored = Math.Abs(WilcoxonSignedRank.TestDifferences([.. x, 0.0], Alternative.Greater).PValue - greater.PValue) < 1e-12;
        bool effect = greater.RankBiserial is >= -1 and <= 1;
        return (symmetric && inRange && cover && zerosIgnored && effect).Label($"p+ {greater.PValue}, p-(-d) {lessOfNegated.PValue}, p- {less.PValue}");
    });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property WilcoxonIsScaleAndShiftFreeInItsRanks() => Prop.ForAll(Differences(), Gen.Choose(1, 50).ToArbitrary(), (d, scale) =>
    {
        var x = d.Select(v => (double)v).ToList();
        double p = WilcoxonSignedRank.TestDifferences(x, Alternative.Greater).PValue;
        double scaled = WilcoxonSignedRank.TestDifferences(x.Select(v => v * scale * 0.37).ToList(), Alternative.Greater).PValue;
        return (Math.Abs(p - scaled) < 1e-12).Label($"{p} vs {scaled}");
    });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property FdrAdjustmentsAreMonotoneAndNeverBelowTheRawP() => Prop.ForAll(
        Gen.Choose(0, 1000).Select(i => i / 1000.0).ArrayOf().Where(a => a.Length is >= 1 and <= 30).ToArbitrary(), p =>
    {
        var bh = MultipleTesting.BenjaminiHochberg(p);
        var by = MultipleTesting.BenjaminiYekutieli(p);
        bool bounds = p.Select((v, i) => bh[i] >= v - 1e-15 && by[i] >= bh[i] - 1e-15 && by[i] <= 1).All(b => b);
        bool monotone = true;
        for (int i = 0; i < p.Length; i++)
            for (int j = 0; j < p.Length; j++)
                if (p[i] <= p[j] && (bh[i] > bh[j] + 1e-15 || by[i] > by[j] + 1e-15)) monotone = false;
        return (bounds && monotone).Label($"p [{string.Join(", ", p)}] bh [{string.Join(", ", bh)}]");
    });

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property KendallTauIsBoundedAndAntisymmetric() => Prop.ForAll(
        Gen.Choose(-4, 4).Two().ArrayOf().Where(a => a.Length is >= 3 and <= 25).ToArbitrary(), pairs =>
    {
        var x = pairs.Select(p => (double)p.Item1).ToList();
        var y = pairs.Select(p => (double)p.Item2).ToList();
        var t = KendallTau.Test(x, y);
        var flipped = KendallTau.Test(x, y.Select(v => -v).ToList());
        bool bounded = t.Tau is >= -1 - 1e-12 and <= 1 + 1e-12;
        bool antisymmetric = Math.Abs(t.Tau + flipped.Tau) < 1e-12 && Math.Abs(t.PValue - flipped.PValue) < 1e-12;
        bool swapped = Math.Abs(KendallTau.Test(y, x).Tau - t.Tau) < 1e-12;
        return (bounded && antisymmetric && swapped).Label($"tau {t.Tau}, flipped {flipped.Tau}");
    });
}
