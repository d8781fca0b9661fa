using NUnit.Framework;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Regimes;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Evaluation;

/// <summary>
/// A comparison on a per-group metric is decided by the permutation test over models, computed from the stored test
/// predictions, not from the stored per-seed values (which share models and are kept as descriptive numbers).
/// Synthetic predictions make the statistics derivable by hand: every WD model predicts class 0 on all 10 test
/// points; Base model s predicts class 1 on point s only. So d(WD, WD) = 0, d(Base_s, Base_t) = 0.2,
/// d(WD_s, Base_t) = 0.1, T = -0.2, and only the identity (and its complement, +0.2) reach |T| = 0.2: p two-sided = 2/1024.
/// </summary>
[TestFixture, Category("Unit")]
public class ModelPermutationEvaluationTests
{
    private const string Profile = "smoke";
    private string root = "";
    private IReadOnlyDictionary<string, SettingSpec> settings = null!;

    [OneTimeSetUp]
    public void WriteSettings()
    {
        root = Repository.TempFolder("model-permutation");
        settings = SyntheticSettings.Write(root, ["Base", "WD"], ("ten", 10, 0.05));
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(root, recursive: true);

    /// <summary>10 points, 2 classes; <paramref name="classOne"/> names the point predicted as class 1 (none: -1).</summary>
    private static (float[] Probabilities, long[] Labels, int Classes) Predictions(int classOne)
    {
        var p = new float[20];
        for (int i = 0; i < 10; i++) { p[2 * i] = i == classOne ? 0.2f : 0.8f; p[2 * i + 1] = i == classOne ? 0.8f : 0.2f; }
        return (p, new long[10], 2);
    }

    /// <summary>The snapshot: the stored disagreement of each run is <paramref name="storedDisagreement"/>(regime, seed), whatever the predictions say.</summary>
    private ResultSnapshot Snapshot(Func<string, int, double> storedDisagreement, bool wdPredictions = true)
    {
        var results = new SyntheticResults(settings);
        foreach (var regime in new[] { "Base", "WD" })
        {
            results.Add("ten", regime, "disagreement", [.. Enumerable.Range(0, 10).Select(seed => storedDisagreement(regime, seed))]);
            if (regime == "Base" || wdPredictions)
                for (int seed = 0; seed < 10; seed++) results.AddPredictions("ten", regime, seed, Predictions(regime == "Base" ? seed : -1));
        }
        return results.Snapshot;
    }

    private static ClaimSpec Claim(string direction) => new()
    {
        Id = "consistency", File = "consistency.json", Statement = "WD is more consistent", Source = new ClaimSource("test", "here", null),
        Kind = ClaimKinds.Get("comparison"), Settings = ["ten"], Reference = "Base", Regimes = ["WD"], Metrics = ["disagreement"], Direction = direction,
        Test = "model-permutation", Family = "safety", Support = "moderate",
    };

    private ComparisonOutcome Evaluate(ResultSnapshot snapshot, string direction = "lower") =>
        new ClaimEvaluator(snapshot, settings, Profile).Evaluate([Claim(direction)]).Single().Comparisons.Single();

    [Test]
    public void TheVerdictRestsOnThePredictionsNotOnTheStoredPerSeedValues()
    {
        // The stored per-seed values say the opposite (WD above Base on every seed): a signed-rank test over them would
        // contradict the claim with p two-sided 2/1024. The permutation test over the predictions reproduces it.
        var c = Evaluate(Snapshot((regime, seed) => regime == "WD" ? 0.5 + seed / 100.0 : 0.1 + seed / 100.0));
        Assert.Multiple(() =>
        {
            Assert.That(c.MedianDifference, Is.EqualTo(-0.2).Within(1e-15), "T = 0 - 0.2");
            Assert.That(c.P, Is.EqualTo(1.0 / 1024), "p in the expected (lower) direction");
            Assert.That(c.POpposite, Is.EqualTo(1.0));
            Assert.That(c.PTwoSided, Is.EqualTo(2.0 / 1024));
            Assert.That(c.Exact, Is.True);
            Assert.That(c.RankBiserial, Is.NaN, "no rank effect size for this test");
            Assert.That(c.Verdict, Is.EqualTo(Verdicts.Reproduced));
            // The stored values stay as the descriptive medians.
            Assert.That(c.RegimeMedian, Is.EqualTo(0.545).Within(1e-12));
            Assert.That(c.ReferenceMedian, Is.EqualTo(0.145).Within(1e-12));
            Assert.That(c.MedianDifferenceLower, Is.LessThanOrEqualTo(-0.2 + 1e-12));
            Assert.That(c.MedianDifferenceUpper, Is.GreaterThanOrEqualTo(-0.2 - 1e-12));
        });
    }

    [Test]
    public void TheOppositeDirectionIsContradicted()
    {
        var c = Evaluate(Snapshot((_, _) => 0.1), direction: "higher");
        Assert.That((c.P, c.POpposite, c.Verdict), Is.EqualTo((1.0, 1.0 / 1024, Verdicts.Contradicted)));
    }

    [Test]
    public void WithoutStoredPredictionsThereIsNoData()
    {
        var c = Evaluate(Snapshot((_, _) => 0.1, wdPredictions: false));
        Assert.That(c.Verdict, Is.EqualTo(Verdicts.NoData));
        Assert.That(c.P, Is.NaN);
    }
}
