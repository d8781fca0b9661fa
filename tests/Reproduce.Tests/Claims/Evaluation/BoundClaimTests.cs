using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Report;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Regimes;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Evaluation;

/// <summary>
/// The "bound" kind on synthetic stores: every seed's value of each metric in the claim's regime must lie in
/// [atLeast, atMost]; all inside is reproduced, any outside contradicted (the note names the seed and value), no value
/// is no data, a missed premise is premise unmet. No p-value: a bound claim leaves every other claim's adjustment as
/// it was. Its baseline snapshot stores the per-seed values and the interval and round-trips through the file.
/// </summary>
[TestFixture, Category("Unit")]
public class BoundClaimTests
{
    private const string Profile = "smoke";
    private string root = "";
    private IReadOnlyDictionary<string, SettingSpec> settings = null!;

    [OneTimeSetUp]
    public void WriteSettings()
    {
        root = Repository.TempFolder("bounds");
        settings = SyntheticSettings.Write(root, ["Base", "WD"], ("four", 4, 0.05), ("four-b", 4, 0.04));
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(root, recursive: true);

    private SyntheticResults data = null!;

    [SetUp]
    public void Reset() => data = new(settings);

    /// <summary>Values by seed (NaN: no run for that seed), each run at the given train accuracy.</summary>
    private BoundClaimTests Add(string setting, string regime, string metric, double[] perSeed, double trainAccuracy = 1.0)
    {
        data.Add(setting, regime, metric, perSeed, trainAccuracy);
        return this;
    }

    private static ClaimSpec Bound(string[] metrics, double? atLeast, double? atMost, string[]? settingNames = null, Premise[]? premises = null) => new()
    {
        Id = "d", File = "d.json", Statement = "d", Source = new ClaimSource("test", "here", null), Kind = ClaimKinds.Get("bound"), Settings = settingNames ?? ["four"],
        Reference = "Base", Metrics = metrics, Direction = "", Test = "", Family = "exact", Support = "strong", AtLeast = atLeast, AtMost = atMost, Premises = premises ?? [],
    };

    private IReadOnlyList<ClaimOutcome> Evaluate(params ClaimSpec[] claims) =>
        new ClaimEvaluator(data.Snapshot, settings, Profile).Evaluate(claims);

    [Test]
    public void EverySeedInsideIsReproducedAndTheEndsAreInside()
    {
        // 0.9999 and 1.0001 are the ends themselves: a closed interval holds them.
        Add("four", "Base", "fisher_rao", [1.0, 0.9999, 1.0001, 1.00005]);
        var o = Evaluate(Bound(["fisher_rao"], 0.9999, 1.0001)).Single();
        var b = o.Bounds.Single();
        Assert.That(b.Seeds, Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(b.Values, Is.EqualTo(new[] { 1.0, 0.9999, 1.0001, 1.00005 }));
        Assert.That(b.OutsideSeeds, Is.Empty);
        Assert.That((b.Verdict, o.Verdict, o.Kind), Is.EqualTo((Verdicts.Reproduced, Verdicts.Reproduced, "bound")));
        Assert.That(o.Comparisons, Is.Empty);
        Assert.That(o.VerdictNote, Does.StartWith("1 of 1 (setting, metric) cells with every seed inside"));
    }

    [Test]
    public void OneSeedOutsideContradictsAndTheNoteNamesIt()
    {
        Add("four", "Base", "fisher_rao", [1.0, 1.0, 1.0002, 1.0]).Add("four", "Base", "hessian_trace", [1.0, 1.0, 1.0, 1.0]);
        var o = Evaluate(Bound(["fisher_rao", "hessian_trace"], 0.9999, 1.0001)).Single();
        var fr = o.Bounds.Single(b => b.Metric == "fisher_rao");
        Assert.That(fr.OutsideSeeds, Is.EqualTo(new[] { 2 }));
        Assert.That((fr.Verdict, o.Bounds.Single(b => b.Metric == "hessian_trace").Verdict, o.Verdict), Is.EqualTo((Verdicts.Contradicted, Verdicts.Reproduced, Verdicts.Contradicted)));
        Assert.That(o.VerdictNote, Does.Contain("four/Base fisher_rao [0.9999, 1.0001]: seed 2 1.0002"));
    }

    [Test]
    public void OpenEndsHoldOnlyTheirSide()
    {
        Add("four", "Base", "hessian_trace", [10.0, 50.0, 9.99, 1e6]);
        var atLeast = Evaluate(Bound(["hessian_trace"], 10, null)).Single().Bounds.Single();
        Assert.That(atLeast.OutsideSeeds, Is.EqualTo(new[] { 2 }));
        Assert.That(atLeast.Interval, Is.EqualTo(">= 10"));
        var atMost = Evaluate(Bound(["hessian_trace"], null, 50)).Single().Bounds.Single();
        Assert.That(atMost.OutsideSeeds, Is.EqualTo(new[] { 3 }));
        Assert.That(atMost.Interval, Is.EqualTo("<= 50"));
    }

    [Test]
    public void NaNIsOutsideEveryInterval()
    {
        Assert.That(BoundOutcome.Inside(double.NaN, null, null), Is.False);
        Assert.That(BoundOutcome.Inside(double.PositiveInfinity, 10, null), Is.True);
        Assert.That(BoundOutcome.Inside(double.PositiveInfinity, null, 1e300), Is.False);
    }

    [Test]
    public void NoValuesIsNoDataAndAMissedPremiseCountsNeitherWay()
    {
        Add("four", "WD", "fisher_rao", [5.0, 5.0, 5.0, 5.0]);
        Assert.That(Evaluate(Bound(["fisher_rao"], 0, 1)).Single().Verdict, Is.EqualTo(Verdicts.NoData), "the claim's regime (Base) has no values");
        Reset();
        // Outside on every seed, but the runs are at 50% train accuracy and the claim's premise asks for 99%.
        Add("four", "Base", "fisher_rao", [5.0, 5.0, 5.0, 5.0], trainAccuracy: 0.5);
        var o = Evaluate(Bound(["fisher_rao"], 0, 1, premises: [new Premise("train_accuracy", 0.99, null, null, "at a minimum")])).Single();
        Assert.That((o.Bounds.Single().Verdict, o.Verdict), Is.EqualTo((Verdicts.PremiseUnmet, Verdicts.PremiseUnmet)));
        Assert.That(o.VerdictNote, Does.Contain("premise unmet").And.Contain("at a minimum"));
    }

    [Test]
    public void EachSettingIsACell()
    {
        Add("four", "Base", "fisher_rao", [1, 1, 1, 1]).Add("four-b", "Base", "fisher_rao", [1, 1, 3, 1]);
        var o = Evaluate(Bound(["fisher_rao"], 0, 2, ["four", "four-b"])).Single();
        Assert.That(o.Bounds.Select(b => (b.Setting, b.Verdict)), Is.EqualTo(new[] { ("four", Verdicts.Reproduced), ("four-b", Verdicts.Contradicted) }));
        Assert.That(o.Verdict, Is.EqualTo(Verdicts.Contradicted));
    }

    [Test]
    public void ABoundClaimAddsNoTestToAnyFamily()
    {
        // A comparison alone, and with a bound claim beside it: the same adjusted p (the bound has no p-value).
        Add("four", "Base", "fisher_rao", [1, 2, 3, 4]).Add("four", "WD", "fisher_rao", [2, 3, 4, 5]);
        var comparison = new ClaimSpec
        {
            Id = "c", File = "c.json", Statement = "c", Source = new ClaimSource("test", "here", null), Kind = ClaimKinds.Get("comparison"), Settings = ["four"],
            Reference = "Base", Regimes = ["WD"], Metrics = ["fisher_rao"], Direction = "higher", Test = "wilcoxon-signed-rank", Family = "related-work", Support = "strong",
        };
        double alone = Evaluate(comparison).Single().Comparisons.Single().PAdjusted;
        var both = Evaluate(comparison, Bound(["fisher_rao"], 0, 10));
        Assert.That(both.Single(o => o.ClaimId == "c").Comparisons.Single().PAdjusted, Is.EqualTo(alone));
        Assert.That(both.Single(o => o.ClaimId == "d").Comparisons, Is.Empty);
    }

    [Test]
    public void TheBaselineStoresTheValuesAndTheIntervalAndTheExactRuleHoldsThemToOneInABillion()
    {
        Add("four", "Base", "fisher_rao", [1.0, 1.00001, 0.99999, 1.0]);
        var outcome = Evaluate(Bound(["fisher_rao"], 0.9999, 1.0001)).Single();
        var environment = new ExecutionEnvironment("0.107", "cpu", "cpu", 2, 2) { Mkl = "generic" };
        var snapshot = BaselineStore.FromOutcome(outcome, "abc", environment);
        string folder = Repository.TempFolder("bound-baseline");
        try
        {
            string path = Path.Combine(folder, "d.json");
            File.WriteAllText(path, BaselineStore.Serialise(snapshot));
            var read = BaselineStore.ReadFile(path);
            var b = read.Bounds!.Single();
            Assert.That((b.AtLeast, b.AtMost, b.Verdict), Is.EqualTo(((double?)0.9999, (double?)1.0001, Verdicts.Reproduced)));
            Assert.That(b.Values, Is.EqualTo(new[] { 1.0, 1.00001, 0.99999, 1.0 }));
            Assert.That(BaselineComparer.Differences(read, snapshot, BaselineRule.Exact), Is.Empty);
        }
        finally { Directory.Delete(folder, recursive: true); }

        // 2e-9 relative on one seed: the exact rule sees it, the statistical one (same verdict, same seeds) does not.
        var moved = snapshot with { Bounds = [snapshot.Bounds!.Single() with { Values = [1.0, 1.00001 * (1 + 2e-9), 0.99999, 1.0] }] };
        Assert.That(BaselineComparer.Differences(snapshot, moved, BaselineRule.Exact), Has.Some.Contains("seed 1"));
        Assert.That(BaselineComparer.Differences(snapshot, moved, BaselineRule.Statistical), Is.Empty);
        var flipped = snapshot with { Bounds = [snapshot.Bounds!.Single() with { Verdict = Verdicts.Contradicted, OutsideSeeds = [1] }] };
        Assert.That(BaselineComparer.Differences(snapshot, flipped, BaselineRule.Statistical), Has.Some.Contains("verdict 'reproduced' -> 'contradicted'"));
    }

    [Test]
    public void AnotherKindsBaselineIsWrittenWithoutABoundsField()
    {
        // Existing baseline files must not change: the field is left out when a claim has no bounds.
        Add("four", "Base", "fisher_rao", [1, 2, 3, 4]).Add("four", "WD", "fisher_rao", [2, 3, 4, 5]);
        var comparison = new ClaimSpec
        {
            Id = "c", File = "c.json", Statement = "c", Source = new ClaimSource("test", "here", null), Kind = ClaimKinds.Get("comparison"), Settings = ["four"],
            Reference = "Base", Regimes = ["WD"], Metrics = ["fisher_rao"], Direction = "higher", Test = "wilcoxon-signed-rank", Family = "related-work", Support = "strong",
        };
        var text = BaselineStore.Serialise(BaselineStore.FromOutcome(Evaluate(comparison).Single(), "abc", new ExecutionEnvironment("0.107", "cpu", "cpu", 2, 2) { Mkl = "generic" }));
        Assert.That(text, Does.Not.Contain("bounds"));
    }

    [Test]
    public void TheMarkdownReportListsEverySeedAgainstTheInterval()
    {
        Add("four", "Base", "fisher_rao", [1.0, 1.0, 1.0002, 1.0]);
        var md = MarkdownReport.Render(Evaluate(Bound(["fisher_rao"], 0.9999, 1.0001)), new Dictionary<string, string>(), Profile, "test");
        Assert.That(md, Does.Contain("## Bounds"));
        Assert.That(md, Does.Contain("| d | four | Base | fisher_rao | [0.9999, 1.0001] | 0: 1, 1: 1, 2: 1.0002, 3: 1 | 2 | contradicted |"));
    }
}
