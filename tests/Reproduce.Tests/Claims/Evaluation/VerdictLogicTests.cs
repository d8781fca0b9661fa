using NUnit.Framework;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Regimes;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Evaluation;

/// <summary>
/// The verdict logic on synthetic stores: per-seed values are chosen so that every statistic can be derived by hand
/// (exact Wilcoxon with n = 10 distinct non-zero differences: P(T+ = 55) = 1/1024; BY step-up with c(m) = sum 1/i), and
/// each test asserts the verdict and the adjusted p-values it implies. No training: runs and metrics are written into a
/// <see cref="ResultSnapshot"/> under the keys the evaluator plans for them.
/// </summary>
[TestFixture, Category("Unit")]
public class VerdictLogicTests
{
    private const string Profile = "smoke";
    private const double OneIn1024 = 1.0 / 1024;
    private string root = "";
    private IReadOnlyDictionary<string, SettingSpec> settings = null!;

    [OneTimeSetUp]
    public void WriteSettings()
    {
        root = Repository.TempFolder("verdicts");
        foreach (var (name, seeds) in new[] { ("ten", 10), ("ten-b", 10), ("three", 3) })
            File.WriteAllText(Path.Combine(root, $"{name}.json"), $$"""
                { "name": "{{name}}", "regimes": ["Base", "WD", "SAM"], "profiles": { "smoke": {
                  "data": "fashion-mnist", "model": { "kind": "mlp", "inputShape": [784], "classes": 10, "widths": [784, 16, 10] },
                  "trainSize": 120, "testSize": 100, "measureSize": 60, "epochs": 2, "batchSize": 30, "learningRate": {{(name == "ten-b" ? "0.04" : "0.05")}},
                  "seeds": {{seeds}}, "robustnessSize": 50 } } }
                """);
        settings = SettingLoader.LoadFolder(root);
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(root, recursive: true);

    /// <summary>Runs and metrics written by hand under the evaluator's own run keys; every run at 100% train accuracy unless set.</summary>
    private sealed class Synthetic(IReadOnlyDictionary<string, SettingSpec> settings)
    {
        private readonly Dictionary<string, StoredRun> runs = [];
        private readonly List<StoredMetric> metrics = [];

        public Synthetic Add(string setting, string regime, string metric, double[] perSeed, double trainAccuracy = 1.0, int[]? unconvergedSeeds = null)
        {
            var block = settings[setting].For(Profile);
            for (int seed = 0; seed < perSeed.Length; seed++)
            {
                if (double.IsNaN(perSeed[seed])) continue;
                string key = new RunSpec(setting, Profile, block, RegimeRegistry.Get(regime), seed).Key;
                if (!runs.ContainsKey(key))
                {
                    runs[key] = new StoredRun(key, setting, Profile, regime, seed, "{}", false, null, 0.01, trainAccuracy, "[]", 0, "{}");
                    metrics.Add(new StoredMetric(key, "train_accuracy", trainAccuracy, "{}", 0));
                }
                string details = unconvergedSeeds?.Contains(seed) == true ? """{"Converged":false}""" : """{"Converged":true}""";
                metrics.Add(new StoredMetric(key, metric, perSeed[seed], details, 0));
            }
            return this;
        }

        public ResultSnapshot Snapshot => new([.. runs.Values], metrics);
    }

    private Synthetic New() => new(settings);

    private static ClaimSpec Claim(string id, ClaimKind kind, string[] settings, string? reference, string[] regimes, string[] metrics, string direction, string family = "sharpness") => new()
    {
        Id = id, File = $"{id}.json", Statement = id, Source = new ClaimSource("test", "here", null), Kind = kind, Settings = settings, Baseline = reference,
        Regimes = regimes, Metrics = metrics, Direction = direction, Test = kind == ClaimKind.Correlation ? "kendall-tau" : "wilcoxon-signed-rank", Family = family, Support = "moderate",
    };

    private IReadOnlyList<ClaimOutcome> Evaluate(Synthetic data, params ClaimSpec[] claims) => new ClaimEvaluator(data.Snapshot, settings, Profile).Evaluate(claims);

    private static readonly double[] Base = [.. Enumerable.Range(0, 10).Select(i => 1.0 + i)];
    /// <summary>Base plus 0.1, 0.2, ..., 1.0: ten distinct positive differences, T+ = 55.</summary>
    private static readonly double[] Up = [.. Base.Select((v, i) => v + 0.1 * (i + 1))];
    private static readonly double[] Down = [.. Base.Select((v, i) => v - 0.1 * (i + 1))];

    [Test]
    public void TenPositiveDifferencesReproduceAHigherClaim()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD"], ["fisher_rao"], "higher")).Single();
        var c = o.Comparisons.Single();
        // Exact: all 2^10 sign patterns equally likely; only the all-positive one reaches T+ = 55. One test in the family: BY = p.
        Assert.That(c.P, Is.EqualTo(OneIn1024).Within(1e-15));
        Assert.That(c.POpposite, Is.EqualTo(1.0).Within(1e-15));
        Assert.That(c.PAdjusted, Is.EqualTo(OneIn1024).Within(1e-15));
        Assert.That(c.RankBiserial, Is.EqualTo(1.0));
        Assert.That(c.Sign, Is.EqualTo(1));
        Assert.That(c.MedianDifference, Is.EqualTo(0.55).Within(1e-12), "median of 0.1..1.0");
        Assert.That((c.Verdict, o.Verdict), Is.EqualTo((Verdicts.Reproduced, Verdicts.Reproduced)));
    }

    [Test]
    public void TheSameDataContradictALowerClaim()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD"], ["fisher_rao"], "lower")).Single();
        var c = o.Comparisons.Single();
        Assert.That(c.P, Is.EqualTo(1.0).Within(1e-15));
        Assert.That(c.PAdjustedOpposite, Is.EqualTo(OneIn1024).Within(1e-15));
        Assert.That((c.Verdict, o.Verdict), Is.EqualTo((Verdicts.Contradicted, Verdicts.Contradicted)));
    }

    [Test]
    public void OneReproducedAndOneContradictedComparisonAreMixed()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", Down);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD", "SAM"], ["fisher_rao"], "higher")).Single();
        // Two tests, p = (1/1024, 1): BY with m = 2, c(2) = 3/2: the smaller gets 2 * 1.5 / 1 * p = 3/1024; the opposite
        // list (1, 1/1024) gives SAM the same 3/1024.
        var wd = o.Comparisons.Single(c => c.Regime == "WD");
        var sam = o.Comparisons.Single(c => c.Regime == "SAM");
        Assert.That(wd.PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15));
        Assert.That(sam.PAdjustedOpposite, Is.EqualTo(3 * OneIn1024).Within(1e-15));
        Assert.That((wd.Verdict, sam.Verdict, o.Verdict), Is.EqualTo((Verdicts.Reproduced, Verdicts.Contradicted, Verdicts.Mixed)));
        Assert.That(o.VerdictNote, Does.StartWith("1 reproduced, 1 contradicted, 0 inconclusive of 2"));
    }

    [Test]
    public void OneReproducedAndOneNullComparisonArePartly()
    {
        // SAM equals Base on every seed: all differences zero, dropped; p = 1 both ways.
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", Base);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD", "SAM"], ["fisher_rao"], "higher")).Single();
        var sam = o.Comparisons.Single(c => c.Regime == "SAM");
        Assert.That((sam.P, sam.POpposite, sam.Sign), Is.EqualTo((1.0, 1.0, 0)));
        Assert.That(o.Comparisons.Single(c => c.Regime == "WD").PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15), "min(3/1024, 1.5 * 1)");
        Assert.That((sam.Verdict, o.Verdict), Is.EqualTo((Verdicts.Inconclusive, Verdicts.Partly)));
    }

    [Test]
    public void RawSignificanceIsNotEnoughAfterBenjaminiYekutieli()
    {
        // Differences 0.1 r for ranks r = 1..10 with ranks 4 and 5 negative: T- = 9; P(T- <= 9) = 33/1024 = 0.0322 (the
        // subsets of {1..10} summing to at most 9, counted by enumeration). Three identical comparisons in one family:
        // BY = p * 3 * c(3) / 3 = 0.0322 * 11/6 = 0.0591 > 0.05 -> inconclusive, while BH = p * 3/3 = 0.0322 would pass.
        double[] mixed = [.. Base.Select((v, i) => v + (i is 3 or 4 ? -1 : 1) * 0.1 * (i + 1))];
        var data = New().Add("ten", "Base", "fisher_rao", Base);
        foreach (var regime in new[] { "WD", "SAM", "WD+SAM" }) data.Add("ten", regime, "fisher_rao", mixed);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD", "SAM", "WD+SAM"], ["fisher_rao"], "higher")).Single();
        foreach (var c in o.Comparisons)
        {
            Assert.That(c.P, Is.EqualTo(33.0 / 1024).Within(1e-15));
            Assert.That(c.PAdjusted, Is.EqualTo(33.0 / 1024 * 11 / 6).Within(1e-15));
            Assert.That(c.PAdjustedBh, Is.EqualTo(33.0 / 1024).Within(1e-15));
            Assert.That(c.Verdict, Is.EqualTo(Verdicts.Inconclusive));
        }
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Inconclusive));
    }

    [Test]
    public void ThreeSeedsCannotReachSignificance()
    {
        var data = New().Add("three", "Base", "fisher_rao", [1, 2, 3]).Add("three", "WD", "fisher_rao", [2, 3, 4.5]);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["three"], "Base", ["WD"], ["fisher_rao"], "higher")).Single();
        Assert.That(o.Comparisons.Single().P, Is.EqualTo(0.125).Within(1e-15), "1/2^3: the smallest p three seeds allow");
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Inconclusive));
    }

    [Test]
    public void FewerThanTwoPairedSeedsIsNoData()
    {
        double nan = double.NaN;
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", [2, nan, nan, nan, nan, nan, nan, nan, nan, nan]);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD"], ["fisher_rao"], "higher")).Single();
        Assert.That((o.Comparisons.Single().Verdict, o.Verdict), Is.EqualTo((Verdicts.NoData, Verdicts.NoData)));
    }

    [Test]
    public void FamiliesAreAdjustedTogetherAndApart()
    {
        // Sharpness family: WD (p1 = 1/1024) and SAM with nine positive differences and the smallest one negative:
        // T+ = 54, P(T+ >= 54) = P(negative ranks sum <= 1) = 2/1024. BY, m = 2, c = 1.5: sorted (1, 2)/1024 ->
        // p(2) * 2 * 1.5 / 2 = 3/1024, p(1) * 2 * 1.5 / 1 = 3/1024: both 3/1024. BH: p(2) * 2/2 = 2/1024, p(1) * 2 = 2/1024.
        // Safety family: one test, its own p 1/1024, unaffected by the other family.
        double[] samNine = [.. Base.Select((v, i) => i == 0 ? v - 0.1 : v + 0.1 * (i + 1))];
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", samNine)
            .Add("ten", "Base", "ece", Base).Add("ten", "WD", "ece", Down);
        var wd = Claim("wd", ClaimKind.Comparison, ["ten"], "Base", ["WD"], ["fisher_rao"], "higher");
        var sam = Claim("sam", ClaimKind.Comparison, ["ten"], "Base", ["SAM"], ["fisher_rao"], "higher");
        var ece = Claim("ece", ClaimKind.Comparison, ["ten"], "Base", ["WD"], ["ece"], "lower", family: "safety");
        var all = Evaluate(data, wd, sam, ece).ToDictionary(o => o.ClaimId);
        Assert.That(all["sam"].Comparisons[0].P, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        Assert.That(all["wd"].Comparisons[0].PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15));
        Assert.That(all["sam"].Comparisons[0].PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15));
        Assert.That(all["wd"].Comparisons[0].PAdjustedBh, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        Assert.That(all["ece"].Comparisons[0].PAdjusted, Is.EqualTo(OneIn1024).Within(1e-15));
        var withoutSafety = Evaluate(data, wd, sam).ToDictionary(o => o.ClaimId);
        Assert.That(withoutSafety["wd"].Comparisons[0].PAdjusted, Is.EqualTo(all["wd"].Comparisons[0].PAdjusted), "another family's claim changes nothing");
        var alone = Evaluate(data, wd).Single();
        Assert.That(alone.Comparisons[0].PAdjusted, Is.EqualTo(OneIn1024).Within(1e-15), "a family of one is not adjusted");
    }

    [Test]
    public void ABestClaimIsContradictedBySignificantLossAndInconclusiveWithoutTheBestMedian()
    {
        // SAM claimed best on test accuracy (higher is better). Comparisons test "WD better than SAM".
        var best = Claim("best", ClaimKind.Best, ["ten"], "SAM", ["WD"], ["test_accuracy"], "higher", family: "safety");
        var clearWin = New().Add("ten", "WD", "test_accuracy", Base).Add("ten", "SAM", "test_accuracy", Up);
        var o = Evaluate(clearWin, best).Single();
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.LosesTo, Verdicts.Reproduced)), "WD significantly worse; SAM has the best median");

        var beaten = New().Add("ten", "WD", "test_accuracy", Up).Add("ten", "SAM", "test_accuracy", Base);
        o = Evaluate(beaten, best).Single();
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.Beats, Verdicts.Contradicted)));

        // WD - SAM = -0.1, +0.2, -0.3, ..., +1.0: T+ = 2+4+6+8+10 = 30 of 55, not significant either way; medians
        // WD 14.5, SAM 14.45: SAM is not best in its one cell -> inconclusive.
        double[] wd = [.. Enumerable.Range(10, 10).Select(v => (double)v)];
        double[] sam = [.. wd.Select((v, i) => v + (i % 2 == 0 ? 1 : -1) * 0.1 * (i + 1))];
        o = Evaluate(New().Add("ten", "WD", "test_accuracy", wd).Add("ten", "SAM", "test_accuracy", sam), best).Single();
        Assert.That(o.Comparisons[0].P, Is.GreaterThan(0.05));
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.Tie, Verdicts.Inconclusive)));
        Assert.That(o.VerdictNote, Does.StartWith("SAM has the best median in 0 of 1"));
    }

    [Test]
    public void CorrelationsFollowTheSignOfTau()
    {
        // x = y on 20 runs (two regimes x 10 seeds): tau = 1, S = 190, Var S = 20*19*45/18 = 950, z = 6.1644,
        // one-sided p = 3.537e-10.
        double[] x1 = [.. Enumerable.Range(0, 10).Select(i => (double)i)], x2 = [.. Enumerable.Range(10, 10).Select(i => (double)i)];
        var rising = New().Add("ten", "Base", "relative_flatness", x1).Add("ten", "Base", "generalisation_gap", x1)
            .Add("ten", "WD", "relative_flatness", x2).Add("ten", "WD", "generalisation_gap", x2);
        ClaimSpec Corr(string direction) => Claim("r", ClaimKind.Correlation, ["ten"], "Base", ["WD"], ["relative_flatness", "generalisation_gap"], direction);
        var positive = Evaluate(rising, Corr("positive")).Single();
        var c = positive.Correlations.Single();
        Assert.That((c.Tau, c.Runs), Is.EqualTo((1.0, 20)));
        Assert.That(c.P, Is.EqualTo(3.5372315e-10).Within(1e-15));
        Assert.That(c.TauWithinRegime["Base"], Is.EqualTo(1.0));
        Assert.That(positive.Verdict, Is.EqualTo(Verdicts.Reproduced));
        Assert.That(Evaluate(rising, Corr("negative")).Single().Verdict, Is.EqualTo(Verdicts.Contradicted));
        Assert.That(Evaluate(rising, Corr("not-positive")).Single().Verdict, Is.EqualTo(Verdicts.Contradicted));
        var falling = New().Add("ten", "Base", "relative_flatness", x1).Add("ten", "Base", "generalisation_gap", [.. x1.Select(v => -v)])
            .Add("ten", "WD", "relative_flatness", x2).Add("ten", "WD", "generalisation_gap", [.. x2.Select(v => -v)]);
        Assert.That(Evaluate(falling, Corr("not-positive")).Single().Verdict, Is.EqualTo(Verdicts.Reproduced));
        Assert.That(Evaluate(falling, Corr("not-positive")).Single().Correlations[0].Tau, Is.EqualTo(-1.0));
    }

    [Test]
    public void AConditionClaimComparesSettingsWithinOneRegime()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten-b", "Base", "fisher_rao", Up);
        var o = Evaluate(data, Claim("cond", ClaimKind.Condition, ["ten", "ten-b"], "Base", [], ["fisher_rao"], "higher")).Single();
        var c = o.Comparisons.Single();
        Assert.That(c.Setting, Is.EqualTo("ten-b vs ten"));
        Assert.That((c.ReferenceSetting, c.RegimeSetting), Is.EqualTo(("ten", "ten-b")));
        Assert.That((c.P, c.Verdict, o.Verdict), Is.EqualTo((OneIn1024, Verdicts.Reproduced, Verdicts.Reproduced)));
    }

    [Test]
    public void UnmetTrainingAndUnconvergedEstimatesAreNamedInTheNote()
    {
        var data = New().Add("ten", "Base", "hessian_top_eigenvalue", Base, trainAccuracy: 0.95)
            .Add("ten", "WD", "hessian_top_eigenvalue", Up, trainAccuracy: 0.97, unconvergedSeeds: [3, 7]);
        var o = Evaluate(data, Claim("c", ClaimKind.Comparison, ["ten"], "Base", ["WD"], ["hessian_top_eigenvalue"], "higher")).Single();
        Assert.That(o.AllConverged, Is.False);
        Assert.That(o.VerdictNote, Does.Contain("computed on runs that did not reach 99% train accuracy (Base)"));
        Assert.That(o.VerdictNote, Does.Contain("not at 99% train accuracy: ten/WD 0.97"));
        Assert.That(o.VerdictNote, Does.Contain("estimator not converged (value used as is): ten/WD hessian_top_eigenvalue seeds 3 7"));
        Assert.That(o.Comparisons[0].UnconvergedRegimeSeeds, Is.EqualTo(new[] { 3, 7 }));
        Assert.That(o.Comparisons[0].UnconvergedReferenceSeeds, Is.Empty);
    }
}
