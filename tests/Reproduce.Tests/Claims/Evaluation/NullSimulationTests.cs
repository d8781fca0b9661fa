using NUnit.Framework;
using Reproduce.Claims.Evaluation;

namespace Reproduce.Tests.Claims.Evaluation;

/// <summary>
/// The evaluator's false-positive rate on null data (<see cref="NullSimulation"/>). Under the complete null with
/// exact two-sided Wilcoxon tests, BY keeps P(any rejection) at most alpha; an unadjusted family of 20 tests rejects
/// somewhere far more often, which the same simulation must expose: that is how it shows it can fail.
/// </summary>
[TestFixture, Category("Unit")]
public class NullSimulationTests
{
    private static IReadOnlyList<ClaimOutcome> Family(int tests, int seeds, int seed, string metric = "fisher_rao")
    {
        var random = new Random(seed);
        var comparisons = Enumerable.Range(0, tests).Select(t =>
        {
            var reference = Enumerable.Range(0, seeds).Select(_ => random.NextDouble()).ToList();
            var regime = reference.Select(v => v + random.NextDouble() - 0.3).ToList(); // a real shift: the simulation must remove it
            return new ComparisonOutcome
            {
                Setting = "s", ReferenceSetting = "s", RegimeSetting = "s", Metric = metric, Reference = "Base", Regime = $"R{t}", Expected = "higher", Family = "f",
                Seeds = [.. Enumerable.Range(0, seeds)], ReferenceValues = reference, RegimeValues = regime, P = double.NaN, POpposite = double.NaN,
            };
        }).ToList();
        return [new ClaimOutcome { ClaimId = "c", Statement = "s", Support = "none", Kind = "comparison", Profile = "p", Comparisons = comparisons, Correlations = [], Convergence = [] }];
    }

    [Test]
    public void BenjaminiYekutieliKeepsTheFamilyAtAlphaOnNullData()
    {
        var rate = NullSimulation.Run(Family(tests: 20, seeds: 10, seed: 1), alpha: 0.05, simulations: 2000).Single();
        Assert.That((rate.Family, rate.Tests, rate.Simulations), Is.EqualTo(("f", 20, 2000)));
        Assert.That(rate.Rate, Is.LessThanOrEqualTo(0.05), $"{rate.WithAnyRejection} of 2000 null families rejected somewhere");
    }

    [Test]
    public void WithoutAdjustmentTheSameSimulationExposesInflatedErrors()
    {
        var rate = NullSimulation.Run(Family(tests: 20, seeds: 10, seed: 1), alpha: 0.05, simulations: 2000, adjust: p => [.. p]).Single();
        // An exact two-sided test at n = 10 distinct differences rejects at 0.05 when T+ or T- is at most 8:
        // 2 * 25/1024 = 50/1024 (VerdictLogicTests derives the 25). Twenty independent ones: 1 - (1 - 50/1024)^20 = 0.632.
        Assert.That(rate.Rate, Is.EqualTo(1 - Math.Pow(1 - 50.0 / 1024, 20)).Within(0.04));
    }

    [Test]
    public void ComparisonsOverModelsDrawTheirPFromThePermutationNull()
    {
        // Per-group metrics are tested over models: p = k / 512 with k uniform on 1..512 at 10 seeds, so P(p <= 0.05) =
        // 25/512 and twenty unadjusted tests reject somewhere with probability 1 - (1 - 25/512)^20 = 0.632; BY keeps it <= 5%.
        var outcomes = Family(tests: 20, seeds: 10, seed: 1, metric: "disagreement");
        var unadjusted = NullSimulation.Run(outcomes, alpha: 0.05, simulations: 2000, adjust: p => [.. p]).Single();
        Assert.That(unadjusted.Rate, Is.EqualTo(1 - Math.Pow(1 - 25.0 / 512, 20)).Within(0.04));
        Assert.That(NullSimulation.Run(outcomes, alpha: 0.05, simulations: 2000).Single().Rate, Is.LessThanOrEqualTo(0.05));
    }

    [Test]
    public void TheSimulationIsSeededAndIgnoresTheRealEffect()
    {
        var outcomes = Family(tests: 5, seeds: 10, seed: 2);
        var a = NullSimulation.Run(outcomes, 0.05, simulations: 300, seed: 7).Single();
        var b = NullSimulation.Run(outcomes, 0.05, simulations: 300, seed: 7).Single();
        Assert.That(b, Is.EqualTo(a));
        // The stored values carry a shift of +0.2 on average; sign-flipping removes it, so the rate stays small.
        Assert.That(a.Rate, Is.LessThanOrEqualTo(0.05));
    }

    /// <summary>
    /// A stronger-correlation test whose data carry a real effect (x is y plus a little noise, the rival y plus much
    /// more): its null swaps each run's two ranks, so the simulated p of the single test rejects at 0.05 in about 5% of
    /// the simulations (1000; Monte Carlo SE 0.007), not in nearly all of them as the real data would.
    /// </summary>
    [Test]
    public void AStrongerCorrelationsNullSwapsTheTwoMeasuresRunByRun()
    {
        var random = new Random(3);
        var points = Enumerable.Range(0, 40).Select(i =>
        {
            double y = random.NextDouble();
            return new CorrelationPoint(i % 2 == 0 ? "Base" : "WD", i / 2, y + 0.05 * random.NextDouble(), y, y + 2 * random.NextDouble());
        }).ToList();
        var contrast = new CorrelationOutcome
        {
            Setting = "s", X = "ggn_soft_rank", Y = "loss_gap", Rival = "hessian_top_eigenvalue", Expected = "positive", Family = "f", Runs = points.Count,
            Tau = double.NaN, P = double.NaN, POpposite = double.NaN, TauWithinRegime = new Dictionary<string, double>(), Points = points,
        };
        var real = Reproduce.Claims.Statistics.KendallTauDifference.Test([.. points.Select(q => q.X)], [.. points.Select(q => q.Rival)], [.. points.Select(q => q.Y)]);
        Assert.That(real.PValue, Is.LessThan(1e-4), "the data carry a real effect");
        var outcomes = new[] { new ClaimOutcome { ClaimId = "c", Statement = "s", Support = "none", Kind = "stronger-correlation", Profile = "p", Comparisons = [], Correlations = [contrast], Convergence = [] } };
        var rate = NullSimulation.Run(outcomes, alpha: 0.05, simulations: 1000, adjust: p => [.. p]).Single();
        Assert.That(rate.Rate, Is.EqualTo(0.05).Within(0.025));
    }
}
