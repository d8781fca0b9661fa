using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Claims.Statistics;

namespace Reproduce.Tests.Claims.Statistics;

/// <summary>
/// The difference of two dependent Kendall taus (<see cref="KendallTauDifference"/>): its taus against
/// <see cref="KendallTau"/>, its laws on any data, its jackknife standard error against the Monte Carlo spread of D,
/// and its size and power by simulation.
/// </summary>
[TestFixture, Category("Property")]
public class KendallTauDifferenceTests
{
    private static Arbitrary<(int X, int Z, int Y, int Group)[]> Units() =>
        Gen.Choose(-4, 4).Three().Zip(Gen.Choose(0, 2), (t, g) => (t.Item1, t.Item2, t.Item3, g))
            .ArrayOf().Where(a => a.Length is >= 10 and <= 30).ToArbitrary();

    /// <summary>Each tau is KendallTau's tau-b (pooled) or its stratified tau (within groups), on a grid with many ties.</summary>
    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property TausAreKendallsTauB() => Prop.ForAll(Units(), units =>
    {
        List<double> x = [.. units.Select(u => (double)u.X)], z = [.. units.Select(u => (double)u.Z)], y = [.. units.Select(u => (double)u.Y)];
        List<int> g = [.. units.Select(u => u.Group)];
        var pooled = KendallTauDifference.Test(x, z, y);
        var within = KendallTauDifference.Stratified(x, z, y, g);
        IEnumerable<(IReadOnlyList<double>, IReadOnlyList<double>)> Groups(List<double> a) =>
            units.Select((u, i) => (u.Group, i)).GroupBy(t => t.Group).Select(grp => ((IReadOnlyList<double>)[.. grp.Select(t => a[t.i])], (IReadOnlyList<double>)[.. grp.Select(t => y[t.i])]));
        bool ok = Math.Abs(pooled.Tau - KendallTau.Test(x, y).Tau) < 1e-12 && Math.Abs(pooled.RivalTau - KendallTau.Test(z, y).Tau) < 1e-12
            && Math.Abs(pooled.Difference - (pooled.Tau - pooled.RivalTau)) < 1e-15
            && Math.Abs(within.Tau - KendallTau.Stratified(Groups(x)).Tau) < 1e-12 && Math.Abs(within.RivalTau - KendallTau.Stratified(Groups(z)).Tau) < 1e-12;
        return ok.Label($"pooled {pooled.Tau} vs {KendallTau.Test(x, y).Tau}, within {within.Tau} vs {KendallTau.Stratified(Groups(x)).Tau}");
    });

    /// <summary>Swapping the measures negates D, keeps its standard error and swaps the one-sided p's; a p is a probability,
    /// and the two one-sided p's of a continuous reference sum to 1 (or are both 1 when x and z order the units alike).</summary>
    [FsCheck.NUnit.Property(MaxTest = 200)]
    public Property SwappingTheMeasuresNegatesTheDifference() => Prop.ForAll(Units(), units =>
    {
        List<double> x = [.. units.Select(u => (double)u.X)], z = [.. units.Select(u => (double)u.Z)], y = [.. units.Select(u => (double)u.Y)];
        var greater = KendallTauDifference.Test(x, z, y, Alternative.Greater);
        var less = KendallTauDifference.Test(x, z, y, Alternative.Less);
        var swapped = KendallTauDifference.Test(z, x, y, Alternative.Less);
        bool negated = Math.Abs(swapped.Difference + greater.Difference) < 1e-12 && Math.Abs(swapped.StandardError - greater.StandardError) < 1e-12
            && Math.Abs(swapped.PValue - greater.PValue) < 1e-12;
        bool probabilities = greater.PValue is >= 0 and <= 1 && less.PValue is >= 0 and <= 1
            && (greater.StandardError > 1e-12 ? Math.Abs(greater.PValue + less.PValue - 1) < 1e-9 : greater.PValue == 1 && less.PValue == 1);
        return (negated && probabilities).Label($"D {greater.Difference} vs {swapped.Difference}, se {greater.StandardError}, p {greater.PValue} / {less.PValue}");
    });

    [Test]
    public void TheSameMeasureTwiceHasNoDifferenceAndPOne()
    {
        var random = new Random(1);
        var y = Enumerable.Range(0, 40).Select(_ => random.NextDouble()).ToList();
        var x = y.Select(v => v + random.NextDouble()).ToList();
        var r = KendallTauDifference.Test(x, x, y);
        Assert.That(r.Difference, Is.EqualTo(0));
        Assert.That(r.PValue, Is.EqualTo(1));
        Assert.Throws<ArgumentException>(() => KendallTauDifference.Test(x[..9], x[..9], y[..9]), "fewer units than the normal reference needs");
        Assert.Throws<ArgumentException>(() => KendallTauDifference.Test([.. x[..39], double.NaN], x, y));
    }

    /// <summary>
    /// The jackknife standard error against the Monte Carlo standard deviation of D over 1500 independent samples
    /// (n = 40, x and z noisy copies of y at unequal noise, and correlated with each other through a shared term):
    /// the mean jackknife SE is within 12% of the spread it estimates.
    /// </summary>
    [Test]
    public void JackknifeStandardErrorMatchesTheSpreadOfTheDifference()
    {
        var random = new Random(7);
        var differences = new List<double>();
        var errors = new List<double>();
        for (int s = 0; s < 1500; s++)
        {
            var (x, z, y) = Sample(random, 40, xNoise: 0.6, zNoise: 1.2, shared: 0.5);
            var r = KendallTauDifference.Test(x, z, y);
            differences.Add(r.Difference);
            errors.Add(r.StandardError);
        }
        double mean = differences.Average();
        double spread = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Count - 1));
        Assert.That(errors.Average() / spread, Is.InRange(0.88, 1.12), $"mean jackknife SE {errors.Average():g4}, Monte Carlo SD {spread:g4}");
    }

    /// <summary>Size: x and z equally noisy copies of y (so equally correlated with it), 2000 samples each of n = 30 and
    /// 60; the two-sided rejection rate at 0.05 is within [0.03, 0.075] (Monte Carlo SE about 0.005). Power: x at a
    /// fifth of z's noise, n = 60, rejects in favour of x in more than 90% of 300 samples.</summary>
    [TestCase(30)]
    [TestCase(60)]
    public void RejectsAtItsLevelUnderTheNullAndDetectsABetterMeasure(int n)
    {
        var random = new Random(n);
        int rejected = 0, samples = 2000;
        for (int s = 0; s < samples; s++)
        {
            var (x, z, y) = Sample(random, n, xNoise: 1, zNoise: 1, shared: 0.5);
            if (KendallTauDifference.Test(x, z, y).PValue <= 0.05) rejected++;
        }
        Assert.That(rejected / (double)samples, Is.InRange(0.03, 0.075), "size at 0.05");
        if (n < 60) return;
        int detected = 0;
        for (int s = 0; s < 300; s++)
        {
            var (x, z, y) = Sample(random, n, xNoise: 0.3, zNoise: 1.5, shared: 0);
            if (KendallTauDifference.Test(x, z, y, Alternative.Greater).PValue <= 0.05) detected++;
        }
        Assert.That(detected / 300.0, Is.GreaterThan(0.9), "power");
    }

    private static (List<double> X, List<double> Z, List<double> Y) Sample(Random random, int n, double xNoise, double zNoise, double shared)
    {
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        List<double> x = [], z = [], y = [];
        for (int i = 0; i < n; i++)
        {
            double v = Normal(), common = shared * Normal();
            y.Add(v);
            x.Add(v + xNoise * (Normal() + common));
            z.Add(v + zNoise * (Normal() + common));
        }
        return (x, z, y);
    }
}
