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
/// The verdict logic on synthetic stores: per-seed values are chosen so that every statistic can be derived by hand
/// (exact Wilcoxon with n = 10 distinct non-zero differences: P(T+ = 55) = 1/1024, so the two-sided p is 2/1024; BY
/// step-up with c(m) = sum 1/i over the family's two-sided p's), and each test asserts the verdict and the adjusted
/// p-values it implies. No training: runs and metrics are written into a
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
        settings = SyntheticSettings.Write(root, ["Base", "WD", "SAM"], ("ten", 10, 0.05), ("ten-b", 10, 0.04), ("three", 3, 0.05), ("ten-c", 10, 0.03));
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(root, recursive: true);

    /// <summary>Each run at 100% train accuracy unless set; the seeds listed as unconverged carry Converged false in
    /// their value's details (the Lanczos residual check).</summary>
    private sealed class Synthetic(IReadOnlyDictionary<string, SettingSpec> settings)
    {
        private readonly SyntheticResults results = new(settings);

        public Synthetic Add(string setting, string regime, string metric, double[] perSeed, double trainAccuracy = 1.0, int[]? unconvergedSeeds = null)
        {
            results.Add(setting, regime, metric, perSeed, trainAccuracy, seed => unconvergedSeeds?.Contains(seed) == true ? """{"Converged":false}""" : """{"Converged":true}""");
            return this;
        }

        public ResultSnapshot Snapshot => results.Snapshot;
    }

    private Synthetic New() => new(settings);

    private static ClaimSpec Claim(string id, ClaimKind kind, string[] settings, string? reference, string[] regimes, string[] metrics, string direction, string family = "sharpness",
        Premise[]? premises = null) => new()
    {
        Id = id, File = $"{id}.json", Statement = id, Source = new ClaimSource("test", "here", null), Kind = kind, Settings = settings, Reference = reference,
        Regimes = regimes, Metrics = metrics, Direction = direction, Test = kind is CorrelationKind ? "kendall-tau" : "wilcoxon-signed-rank", Family = family, Support = "moderate",
        Premises = premises ?? [],
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
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "higher")).Single();
        var c = o.Comparisons.Single();
        // Exact: all 2^10 sign patterns equally likely; only the all-positive one reaches T+ = 55. Two-sided: 2/1024.
        // One test in the family: BY leaves it as is.
        Assert.That(c.P, Is.EqualTo(OneIn1024).Within(1e-15));
        Assert.That(c.POpposite, Is.EqualTo(1.0).Within(1e-15));
        Assert.That(c.PTwoSided, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        Assert.That(c.PAdjusted, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        Assert.That(c.RankBiserial, Is.EqualTo(1.0));
        Assert.That(c.Sign, Is.EqualTo(1));
        Assert.That(c.MedianDifference, Is.EqualTo(0.55).Within(1e-12), "median of 0.1..1.0");
        Assert.That((c.Verdict, o.Verdict), Is.EqualTo((Verdicts.Reproduced, Verdicts.Reproduced)));
    }

    [Test]
    public void TheSameDataContradictALowerClaim()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "lower")).Single();
        var c = o.Comparisons.Single();
        // The same evidence as the test above, the other way: the same two-sided p, so contradicting is exactly as easy.
        Assert.That(c.P, Is.EqualTo(1.0).Within(1e-15));
        Assert.That(c.PAdjusted, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        Assert.That((c.Verdict, o.Verdict), Is.EqualTo((Verdicts.Contradicted, Verdicts.Contradicted)));
    }

    [Test]
    public void OneReproducedAndOneContradictedComparisonAreMixed()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", Down);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD", "SAM"], ["fisher_rao"], "higher")).Single();
        // One list of two two-sided p's (2/1024, 2/1024): BY with m = 2, c(2) = 3/2: rank 2 gets 2/1024 * 2 * 1.5 / 2 =
        // 3/1024, rank 1 min(2/1024 * 3, 3/1024) = 3/1024. The sign decides: WD up (reproduced), SAM down (contradicted).
        var wd = o.Comparisons.Single(c => c.Regime == "WD");
        var sam = o.Comparisons.Single(c => c.Regime == "SAM");
        Assert.That(wd.PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15));
        Assert.That(sam.PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15));
        Assert.That((wd.Verdict, sam.Verdict, o.Verdict), Is.EqualTo((Verdicts.Reproduced, Verdicts.Contradicted, Verdicts.Mixed)));
        Assert.That(o.VerdictNote, Does.StartWith("1 reproduced, 1 contradicted, 0 not significant of 2"));
    }

    [Test]
    public void OneReproducedAndOneNullComparisonArePartly()
    {
        // SAM equals Base on every seed: all differences zero, dropped; p = 1 both ways.
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", Base);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD", "SAM"], ["fisher_rao"], "higher")).Single();
        var sam = o.Comparisons.Single(c => c.Regime == "SAM");
        Assert.That((sam.P, sam.POpposite, sam.Sign), Is.EqualTo((1.0, 1.0, 0)));
        Assert.That(o.Comparisons.Single(c => c.Regime == "WD").PAdjusted, Is.EqualTo(6 * OneIn1024).Within(1e-15), "two-sided (2/1024, 1): rank 1 gets 2/1024 * 2 * 1.5");
        Assert.That((sam.Verdict, o.Verdict), Is.EqualTo((Verdicts.Inconclusive, Verdicts.Partly)));
    }

    [Test]
    public void RawSignificanceIsNotEnoughAfterBenjaminiYekutieli()
    {
        // Differences 0.1 r for ranks r = 1..10 with ranks 3 and 5 negative: T- = 8; P(T- <= 8) = 25/1024 (the subsets of
        // {1..10} summing to at most 8: 1, 1, 1, 2, 2, 3, 4, 5, 6 for sums 0..8), two-sided 50/1024 = 0.0488 <= 0.05.
        // Three identical comparisons in one family: BY = 0.0488 * 3 * c(3) / 3 = 0.0488 * 11/6 = 0.0895 > 0.05 ->
        // inconclusive, while BH = 0.0488 * 3/3 would pass.
        double[] mixed = [.. Base.Select((v, i) => v + (i is 2 or 4 ? -1 : 1) * 0.1 * (i + 1))];
        var data = New().Add("ten", "Base", "fisher_rao", Base);
        foreach (var regime in new[] { "WD", "SAM", "WD+SAM" }) data.Add("ten", regime, "fisher_rao", mixed);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD", "SAM", "WD+SAM"], ["fisher_rao"], "higher")).Single();
        foreach (var c in o.Comparisons)
        {
            Assert.That(c.P, Is.EqualTo(25.0 / 1024).Within(1e-15));
            Assert.That(c.PTwoSided, Is.EqualTo(50.0 / 1024).Within(1e-15));
            Assert.That(c.PAdjusted, Is.EqualTo(50.0 / 1024 * 11 / 6).Within(1e-15));
            Assert.That(c.PAdjustedBh, Is.EqualTo(50.0 / 1024).Within(1e-15));
            Assert.That(c.Verdict, Is.EqualTo(Verdicts.Inconclusive));
        }
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Inconclusive));
    }

    [Test]
    public void ThreeSeedsCannotReachSignificance()
    {
        var data = New().Add("three", "Base", "fisher_rao", [1, 2, 3]).Add("three", "WD", "fisher_rao", [2, 3, 4.5]);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["three"], "Base", ["WD"], ["fisher_rao"], "higher")).Single();
        Assert.That(o.Comparisons.Single().P, Is.EqualTo(0.125).Within(1e-15), "1/2^3: the smallest p three seeds allow");
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Inconclusive));
    }

    [Test]
    public void FewerThanTwoPairedSeedsIsNoData()
    {
        double nan = double.NaN;
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", [2, nan, nan, nan, nan, nan, nan, nan, nan, nan]);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "higher")).Single();
        Assert.That((o.Comparisons.Single().Verdict, o.Verdict), Is.EqualTo((Verdicts.NoData, Verdicts.NoData)));
    }

    [Test]
    public void FamiliesAreAdjustedTogetherAndApart()
    {
        // Sharpness family: WD (two-sided 2/1024) and SAM with nine positive differences and the smallest one negative:
        // T+ = 54, P(T+ >= 54) = P(negative ranks sum <= 1) = 2/1024, two-sided 4/1024. BY, m = 2, c = 1.5: sorted
        // (2, 4)/1024 -> rank 2: 4/1024 * 2 * 1.5 / 2 = 6/1024, rank 1: min(2/1024 * 3, 6/1024) = 6/1024. BH: rank 2
        // 4/1024, rank 1 min(2/1024 * 2, 4/1024) = 4/1024. Safety family: one test, 2/1024, unaffected by the other family.
        double[] samNine = [.. Base.Select((v, i) => i == 0 ? v - 0.1 : v + 0.1 * (i + 1))];
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", samNine)
            .Add("ten", "Base", "ece", Base).Add("ten", "WD", "ece", Down);
        var wd = Claim("wd", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "higher");
        var sam = Claim("sam", ClaimKinds.Get("comparison"), ["ten"], "Base", ["SAM"], ["fisher_rao"], "higher");
        var ece = Claim("ece", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["ece"], "lower", family: "safety");
        var all = Evaluate(data, wd, sam, ece).ToDictionary(o => o.ClaimId);
        Assert.That(all["sam"].Comparisons[0].P, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        Assert.That(all["wd"].Comparisons[0].PAdjusted, Is.EqualTo(6 * OneIn1024).Within(1e-15));
        Assert.That(all["sam"].Comparisons[0].PAdjusted, Is.EqualTo(6 * OneIn1024).Within(1e-15));
        Assert.That(all["wd"].Comparisons[0].PAdjustedBh, Is.EqualTo(4 * OneIn1024).Within(1e-15));
        Assert.That(all["ece"].Comparisons[0].PAdjusted, Is.EqualTo(2 * OneIn1024).Within(1e-15));
        var withoutSafety = Evaluate(data, wd, sam).ToDictionary(o => o.ClaimId);
        Assert.That(withoutSafety["wd"].Comparisons[0].PAdjusted, Is.EqualTo(all["wd"].Comparisons[0].PAdjusted), "another family's claim changes nothing");
        var alone = Evaluate(data, wd).Single();
        Assert.That(alone.Comparisons[0].PAdjusted, Is.EqualTo(2 * OneIn1024).Within(1e-15), "without a catalogue, a selection of one is its own family");
        var selected = new ClaimEvaluator(data.Snapshot, settings, Profile).Evaluate([wd], catalogue: [wd, sam, ece]);
        Assert.That(selected.Select(o => o.ClaimId), Is.EqualTo(new[] { "wd" }), "only the selection is returned");
        Assert.That(selected[0].Comparisons[0].PAdjusted, Is.EqualTo(6 * OneIn1024).Within(1e-15), "with the catalogue, selecting one claim keeps its whole family");

        // A member without data enters as p = 1: the family is as large as the catalogue says, never smaller.
        var sparse = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up);
        var withMissing = new ClaimEvaluator(sparse.Snapshot, settings, Profile).Evaluate([wd], catalogue: [wd, sam]).Single();
        Assert.That(withMissing.Comparisons[0].PAdjusted, Is.EqualTo(6 * OneIn1024).Within(1e-15), "(2/1024, 1): rank 1 gets 2/1024 * 2 * 1.5");
    }

    [Test]
    public void ABestClaimIsContradictedBySignificantLossAndInconclusiveWithoutTheBestMedian()
    {
        // SAM claimed best on test accuracy (higher is better). Comparisons test "WD better than SAM".
        var best = Claim("best", ClaimKinds.Get("best"), ["ten"], "SAM", ["WD"], ["test_accuracy"], "higher", family: "safety");
        var clearWin = New().Add("ten", "WD", "test_accuracy", Base).Add("ten", "SAM", "test_accuracy", Up);
        var o = Evaluate(clearWin, best).Single();
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.LosesTo, Verdicts.Reproduced)), "WD significantly worse (two-sided 2/1024): a significant win in the one cell");

        var beaten = New().Add("ten", "WD", "test_accuracy", Up).Add("ten", "SAM", "test_accuracy", Base);
        o = Evaluate(beaten, best).Single();
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.Beats, Verdicts.Contradicted)));

        // WD - SAM = -0.1, +0.2, -0.3, ..., +1.0: T+ = 2+4+6+8+10 = 30 of 55, not significant either way: a tie is not
        // a win, whatever the medians -> inconclusive.
        double[] wd = [.. Enumerable.Range(10, 10).Select(v => (double)v)];
        double[] sam = [.. wd.Select((v, i) => v + (i % 2 == 0 ? 1 : -1) * 0.1 * (i + 1))];
        o = Evaluate(New().Add("ten", "WD", "test_accuracy", wd).Add("ten", "SAM", "test_accuracy", sam), best).Single();
        Assert.That(o.Comparisons[0].P, Is.GreaterThan(0.05));
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.Tie, Verdicts.Inconclusive)));
        Assert.That(o.VerdictNote, Does.StartWith("SAM significantly better than every rival in 0 of 1"));

        // The same alternating differences shifted by +0.06 for SAM: T+ is still 30 (not significant), but SAM's median
        // (14.51) now beats WD's (14.5). The old rule counted that as best; a better median without significance is not a win.
        double[] samHigher = [.. wd.Select((v, i) => v + (i % 2 == 0 ? 1 : -1) * 0.1 * (i + 1) + 0.06)];
        o = Evaluate(New().Add("ten", "WD", "test_accuracy", wd).Add("ten", "SAM", "test_accuracy", samHigher), best).Single();
        Assert.That(o.Comparisons[0].ReferenceMedian, Is.GreaterThan(o.Comparisons[0].RegimeMedian), "SAM (the reference here) has the better median");
        Assert.That((o.Comparisons[0].Verdict, o.Verdict), Is.EqualTo((Verdicts.Tie, Verdicts.Inconclusive)), "no accepted nulls: a better median without significance is not a win");
    }

    [Test]
    public void CorrelationsFollowTheSignOfTau()
    {
        // x = y on 20 runs (two regimes x 10 seeds): tau = 1, S = 190, Var S = 20*19*45/18 = 950, z = 6.1644,
        // one-sided p = 3.537e-10.
        double[] x1 = [.. Enumerable.Range(0, 10).Select(i => (double)i)], x2 = [.. Enumerable.Range(10, 10).Select(i => (double)i)];
        var rising = New().Add("ten", "Base", "relative_flatness", x1).Add("ten", "Base", "generalisation_gap", x1)
            .Add("ten", "WD", "relative_flatness", x2).Add("ten", "WD", "generalisation_gap", x2);
        ClaimSpec Corr(string direction) => Claim("r", ClaimKinds.Get("correlation"), ["ten"], "Base", ["WD"], ["relative_flatness", "generalisation_gap"], direction);
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

        // No correlation at all (y alternates, tau near 0): "not positive" is not shown by failing to find a positive
        // tau. It is "not rejected", never "reproduced"; a positive claim on the same data is inconclusive.
        double[] flat1 = [.. x1.Select(v => v % 2)], flat2 = [.. x2.Select(v => (v + 1) % 2)];
        var none = New().Add("ten", "Base", "relative_flatness", x1).Add("ten", "Base", "generalisation_gap", flat1)
            .Add("ten", "WD", "relative_flatness", x2).Add("ten", "WD", "generalisation_gap", flat2);
        var notPositive = Evaluate(none, Corr("not-positive")).Single();
        Assert.That(notPositive.Correlations[0].PAdjusted, Is.GreaterThan(0.05));
        Assert.That((notPositive.Correlations[0].Verdict, notPositive.Verdict), Is.EqualTo((Verdicts.NotRejected, Verdicts.NotRejected)));
        Assert.That(Evaluate(none, Corr("positive")).Single().Verdict, Is.EqualTo(Verdicts.Inconclusive));
    }

    /// <summary>
    /// A stronger-correlation claim on 20 runs (Base and WD x 10 seeds): x orders the runs exactly by y (tau 1), the
    /// rival is y scrambled within each regime (tau well below 1), so D &gt; 0 with a small jackknife error: a "positive"
    /// claim is reproduced, a "negative" one contradicted, and swapping x and the rival contradicts the positive claim.
    /// The outcome carries exactly KendallTauDifference's figures on the pooled points; a regime short of the fit premise
    /// makes it premise unmet, and fewer than 10 runs no data.
    /// </summary>
    [Test]
    public void AStrongerCorrelationFollowsTheSignOfTheTauDifference()
    {
        double[] y1 = [.. Enumerable.Range(0, 10).Select(i => (double)i)], y2 = [.. Enumerable.Range(10, 10).Select(i => (double)i)];
        double[] Scramble(double[] v) => [.. v.Select((_, i) => v[(i * 7 + 3) % v.Length])];
        Synthetic Data(double wdTrainAccuracy = 1.0) => New()
            .Add("ten", "Base", "relative_flatness", y1).Add("ten", "Base", "hessian_top_eigenvalue", Scramble(y1)).Add("ten", "Base", "generalisation_gap", y1)
            .Add("ten", "WD", "relative_flatness", y2, wdTrainAccuracy).Add("ten", "WD", "hessian_top_eigenvalue", Scramble(y2), wdTrainAccuracy).Add("ten", "WD", "generalisation_gap", y2, wdTrainAccuracy);
        ClaimSpec Stronger(string direction, string x = "relative_flatness", string rival = "hessian_top_eigenvalue", string setting = "ten", Premise[]? premises = null)
            => Claim("s", ClaimKinds.Get("stronger-correlation"), [setting], null, ["Base", "WD"], [x, rival, "generalisation_gap"], direction, premises: premises) with { Test = "kendall-tau-difference" };

        var positive = Evaluate(Data(), Stronger("positive")).Single();
        var c = positive.Correlations.Single();
        List<double> xs = [.. y1, .. y2], zs = [.. Scramble(y1), .. Scramble(y2)];
        var expected = Reproduce.Claims.Statistics.KendallTauDifference.Test(xs, zs, xs, Reproduce.Claims.Statistics.Alternative.Greater);
        Assert.That((c.Rival, c.Runs, c.Tau), Is.EqualTo(("hessian_top_eigenvalue", 20, 1.0)));
        Assert.That((c.RivalTau, c.TauDifference, c.TauDifferenceStandardError, c.P), Is.EqualTo((expected.RivalTau, expected.Difference, expected.StandardError, expected.PValue)));
        Assert.That(c.TauDifference, Is.GreaterThan(0.3));
        Assert.That(c.RivalTauWithinRegime["Base"], Is.LessThan(1.0));
        Assert.That(c.TauDifferenceLower, Is.LessThanOrEqualTo(c.TauDifference));
        Assert.That(positive.Kind, Is.EqualTo("stronger-correlation"));
        Assert.That(positive.Verdict, Is.EqualTo(Verdicts.Reproduced));
        Assert.That(Evaluate(Data(), Stronger("negative")).Single().Verdict, Is.EqualTo(Verdicts.Contradicted));
        Assert.That(Evaluate(Data(), Stronger("positive", x: "hessian_top_eigenvalue", rival: "relative_flatness")).Single().Verdict, Is.EqualTo(Verdicts.Contradicted));

        var fit = new Premise("train_accuracy", 0.99, null, null, "minima");
        Assert.That(Evaluate(Data(wdTrainAccuracy: 0.9), Stronger("positive", premises: [fit])).Single().Verdict, Is.EqualTo(Verdicts.PremiseUnmet));
        Assert.That(Evaluate(Data(), Stronger("positive", premises: [fit])).Single().Verdict, Is.EqualTo(Verdicts.Reproduced));
        var few = New().Add("three", "Base", "relative_flatness", [1, 2, 3]).Add("three", "Base", "hessian_top_eigenvalue", [1, 2, 3]).Add("three", "Base", "generalisation_gap", [1, 2, 3])
            .Add("three", "WD", "relative_flatness", [4, 5, 6]).Add("three", "WD", "hessian_top_eigenvalue", [4, 5, 6]).Add("three", "WD", "generalisation_gap", [4, 5, 6]);
        Assert.That(Evaluate(few, Stronger("positive", setting: "three")).Single().Verdict, Is.EqualTo(Verdicts.NoData));
    }

    [Test]
    public void AComparisonWhoseRunsMissThePremiseCountsNeitherWay()
    {
        var minima = new Premise("train_accuracy", 0.99, null, null, "minima");
        var claim = Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD", "SAM"], ["fisher_rao"], "higher", premises: [minima]);
        // WD significantly higher but trained to 0.95 only; SAM significantly lower at 100%.
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up, trainAccuracy: 0.95).Add("ten", "SAM", "fisher_rao", Down);
        var o = Evaluate(data, claim).Single();
        var wd = o.Comparisons.Single(c => c.Regime == "WD");
        Assert.That(wd.Verdict, Is.EqualTo(Verdicts.PremiseUnmet));
        Assert.That(wd.PremiseFailures.Single(), Does.Contain("ten/WD median train_accuracy 0.95 < 0.99 (minima)"));
        Assert.That(wd.PAdjusted, Is.EqualTo(3 * OneIn1024).Within(1e-15), "its p still enters the family (conservative): (2, 2)/1024 with m = 2");
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Contradicted), "only SAM counts");
        Assert.That(o.VerdictNote, Does.StartWith("0 reproduced, 1 contradicted, 0 not significant of 1; 1 test(s) not counted, premise unmet"));

        // Both sides must meet it: the reference short of it fails every comparison, and the claim has nothing left.
        var baseShort = New().Add("ten", "Base", "fisher_rao", Base, trainAccuracy: 0.9).Add("ten", "WD", "fisher_rao", Up).Add("ten", "SAM", "fisher_rao", Down);
        Assert.That(Evaluate(baseShort, claim).Single().Verdict, Is.EqualTo(Verdicts.PremiseUnmet));

        // A ratio premise (claim 11's "equally converged"): medians 1 and 3 are a factor 3 apart, over a stated 2.
        var ratio = Claim("r", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "higher", premises: [new Premise("train_loss", null, null, 2, "equal fits")]);
        var fits = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up)
            .Add("ten", "Base", "train_loss", [.. Enumerable.Repeat(1.0, 10)]).Add("ten", "WD", "train_loss", [.. Enumerable.Repeat(3.0, 10)]);
        var fr = Evaluate(fits, ratio).Single();
        Assert.That((fr.Comparisons[0].Verdict, fr.Verdict), Is.EqualTo((Verdicts.PremiseUnmet, Verdicts.PremiseUnmet)));
        Assert.That(fr.Comparisons[0].PremiseFailures.Single(), Does.Contain("ratio 3 > 2 (equal fits)"));
        var equalFits = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up)
            .Add("ten", "Base", "train_loss", [.. Enumerable.Repeat(1.0, 10)]).Add("ten", "WD", "train_loss", [.. Enumerable.Repeat(1.5, 10)]);
        Assert.That(Evaluate(equalFits, ratio).Single().Verdict, Is.EqualTo(Verdicts.Reproduced), "a factor 1.5 meets it");
    }

    [Test]
    public void AConditionClaimComparesSettingsWithinOneRegime()
    {
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten-b", "Base", "fisher_rao", Up);
        var o = Evaluate(data, Claim("cond", ClaimKinds.Get("condition"), ["ten", "ten-b"], "Base", [], ["fisher_rao"], "higher")).Single();
        var c = o.Comparisons.Single();
        Assert.That(c.Setting, Is.EqualTo("ten-b vs ten"));
        Assert.That((c.ReferenceSetting, c.RegimeSetting), Is.EqualTo(("ten", "ten-b")));
        Assert.That((c.P, c.PAdjusted, c.Verdict, o.Verdict), Is.EqualTo((OneIn1024, 2 * OneIn1024, Verdicts.Reproduced, Verdicts.Reproduced)));
    }

    [Test]
    public void ATrendClaimTestsTheOrderWithinEachSeedExactly()
    {
        // Every seed rises over ten < ten-b < ten-c: S = 3 per seed, 30 in all, the largest possible. Under the null each
        // seed's three values are in one of 3! = 6 orders with equal probability, independently: P(S >= 30) = 6^-10.
        double[] upUp = [.. Up.Select((v, i) => v + 0.1 * (i + 1))];
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten-b", "Base", "fisher_rao", Up).Add("ten-c", "Base", "fisher_rao", upUp);
        var claim = Claim("trend", ClaimKinds.Get("trend"), ["ten", "ten-b", "ten-c"], "Base", [], ["fisher_rao"], "positive") with { Test = "kendall-tau" };
        var o = Evaluate(data, claim).Single();
        var t = o.Correlations.Single();
        Assert.That((t.IsTrend, t.Setting, t.X, t.Y, t.Runs), Is.EqualTo((true, "ten < ten-b < ten-c", "level", "fisher_rao", 30)));
        Assert.That(t.Tau, Is.EqualTo(1.0));
        Assert.That(t.P, Is.EqualTo(Math.Pow(6, -10)).Within(1e-20));
        Assert.That(t.POpposite, Is.EqualTo(1.0).Within(1e-12));
        Assert.That((t.PAdjusted, t.Verdict, o.Verdict), Is.EqualTo((2 * Math.Pow(6, -10), Verdicts.Reproduced, Verdicts.Reproduced)).Using<(double, string, string)>((a, b) =>
            Math.Abs(a.Item1 - b.Item1) < 1e-20 && a.Item2 == b.Item2 && a.Item3 == b.Item3));
        Assert.That(t.Points.Select(p => p.Regime).Distinct(), Is.EqualTo(new[] { "ten", "ten-b", "ten-c" }), "a trend's points name their setting");
        // The same values claimed to fall: the same evidence, contradicted.
        Assert.That(Evaluate(data, claim with { Direction = "negative" }).Single().Verdict, Is.EqualTo(Verdicts.Contradicted));
        // The top two levels swapped in every seed: pairs (0,1) and (0,2) concordant, (1,2) discordant, S = 1 per seed and
        // 10 in all; per-seed S is 3, 1, 1, -1, -1, -3 with probability 1/6 each (variance 22/6), so z = 10 / sqrt(36.7)
        // = 1.65 and the two-sided p is about 0.1: not monotone enough, inconclusive.
        var swapped = New().Add("ten", "Base", "fisher_rao", Base).Add("ten-b", "Base", "fisher_rao", upUp).Add("ten-c", "Base", "fisher_rao", Up);
        Assert.That(Evaluate(swapped, claim).Single().Verdict, Is.EqualTo(Verdicts.Inconclusive));
    }

    [Test]
    public void ASettingWithoutBaseIsNotJudgedByItsAllClassTrainAccuracy()
    {
        // Incremental few-shot trains no Base and fits 6 of 10 classes: its 10-class train accuracy (0.59) is no fit
        // measure, so neither convergence note appears; the same runs in a setting that trains Base get both.
        var noBase = settings.ToDictionary(p => p.Key, p => p.Key == "ten" ? p.Value with { Regimes = ["WD", "SAM"] } : p.Value);
        var data = new SyntheticResults(noBase).Add("ten", "SAM", "fisher_rao", Base, trainAccuracy: 0.59).Add("ten", "WD", "fisher_rao", Up, trainAccuracy: 0.59);
        var claim = Claim("c", ClaimKinds.Get("comparison"), ["ten"], "SAM", ["WD"], ["fisher_rao"], "higher");
        var o = new ClaimEvaluator(data.Snapshot, noBase, Profile).Evaluate([claim]).Single();
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Reproduced));
        Assert.That(o.AllConverged, Is.True);
        Assert.That(o.VerdictNote, Does.Not.Contain("99% train accuracy"));
        var withBase = new SyntheticResults(settings).Add("ten", "Base", "fisher_rao", Base, trainAccuracy: 0.59).Add("ten", "WD", "fisher_rao", Up, trainAccuracy: 0.59);
        var judged = new ClaimEvaluator(withBase.Snapshot, settings, Profile).Evaluate([claim with { Reference = "Base" }]).Single();
        Assert.That(judged.VerdictNote, Does.Contain("did not reach 99% train accuracy (Base)").And.Contain("not at 99% train accuracy: ten/WD 0.59"));
    }

    [Test]
    public void UnmetTrainingAndUnconvergedEstimatesAreNamedInTheNote()
    {
        var data = New().Add("ten", "Base", "hessian_top_eigenvalue", Base, trainAccuracy: 0.95)
            .Add("ten", "WD", "hessian_top_eigenvalue", Up, trainAccuracy: 0.97, unconvergedSeeds: [3, 7]);
        var o = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["hessian_top_eigenvalue"], "higher")).Single();
        Assert.That(o.AllConverged, Is.False);
        Assert.That(o.VerdictNote, Does.Contain("computed on runs that did not reach 99% train accuracy (Base)"));
        Assert.That(o.VerdictNote, Does.Contain("not at 99% train accuracy: ten/WD 0.97"));
        Assert.That(o.VerdictNote, Does.Contain("estimator not converged (value used as is): ten/WD hessian_top_eigenvalue seeds 3 7"));
        Assert.That(o.Comparisons[0].UnconvergedRegimeSeeds, Is.EqualTo(new[] { 3, 7 }));
        Assert.That(o.Comparisons[0].UnconvergedReferenceSeeds, Is.Empty);
    }

    [Test]
    public void TheBaseFitIsTheMedianOfTheTrainMetricsOfThePlannedBaseRuns()
    {
        // Train loss and accuracy live in the metrics only: the Base fit shown beside every verdict is their median over
        // the planned Base runs (train accuracy 1.0 as written by Add; train loss 0.01 .. 0.10, median 0.055).
        var data = New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up)
            .Add("ten", "Base", "train_loss", [.. Enumerable.Range(1, 10).Select(i => 0.01 * i)]);
        var fit = Evaluate(data, Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "higher")).Single().Convergence.Single();
        Assert.That(fit.BaseTrainLoss, Is.EqualTo(0.055).Within(1e-15));
        Assert.That((fit.BaseTrainAccuracy, fit.Converged), Is.EqualTo((1.0, true)));
        var withoutLoss = Evaluate(New().Add("ten", "Base", "fisher_rao", Base).Add("ten", "WD", "fisher_rao", Up),
            Claim("c", ClaimKinds.Get("comparison"), ["ten"], "Base", ["WD"], ["fisher_rao"], "higher")).Single().Convergence.Single();
        Assert.That(withoutLoss.BaseTrainLoss, Is.NaN, "no train_loss metric, no fit figure");
    }
}
