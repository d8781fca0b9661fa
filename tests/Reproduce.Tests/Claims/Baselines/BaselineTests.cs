using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Baselines;

[TestFixture, Category("Unit")]
public class BaselineTests
{
    private static readonly ExecutionEnvironment Here = new("0.107.0.0", "Test CPU", "cpu", 2, 2) { Mkl = "generic (test)" };

    private static ClaimOutcome Outcome(string verdict, double[] regime, double lower = 0.5, double upper = 1.5, double pAdjusted = 0.01) => new()
    {
        ClaimId = "c-test", Statement = "s", Support = "moderate", Kind = "comparison", Profile = "default", Verdict = verdict,
        Convergence = [new Convergence("mlp", 1, 0.01, true)], Correlations = [],
        Comparisons = [new ComparisonOutcome
        {
            Setting = "mlp", ReferenceSetting = "mlp", RegimeSetting = "mlp", Metric = "fisher_rao", Reference = "Base", Regime = "WD", Expected = "higher", Family = "sharpness",
            Seeds = [0, 1, 2], ReferenceValues = [1, 1, 1], RegimeValues = regime, ReferenceMedian = 1.0, RegimeMedian = regime.Order().ElementAt(1),
            MedianDifference = regime.Order().ElementAt(1) - 1, MedianDifferenceLower = lower, MedianDifferenceUpper = upper,
            P = 0.125, POpposite = 1, PAdjusted = pAdjusted, RankBiserial = 1, Verdict = verdict,
        }],
    };

    private static Baseline Snapshot(ClaimOutcome o, ExecutionEnvironment? e = null) => BaselineStore.FromOutcome(o, "abc", e ?? Here);

    [Test]
    public void ReceivedAcceptAndARoundTripChangeNothing()
    {
        var folder = Repository.TempFolder("baselines");
        try
        {
            var store = new BaselineStore(folder);
            var snapshot = Snapshot(Outcome(Verdicts.Reproduced, [2, 2, 2]));
            string received = store.WriteReceived(snapshot);
            Assert.That(File.Exists(received), Is.True);
            Assert.That(store.Read("default", "c-test"), Is.Null, "writing a received file never creates the baseline");
            store.Accept("default", "c-test", "reviewed in a test");
            Assert.That(File.Exists(received), Is.False);
            var reviewed = store.Read("default", "c-test")!;
            Assert.That(reviewed.Review, Is.EqualTo("reviewed in a test"));
            Assert.That(reviewed.Environment, Is.EqualTo(Here));
            Assert.That(reviewed.Comparisons[0].RegimeValues, Is.EqualTo(new[] { 2.0, 2.0, 2.0 }));
            Assert.That(BaselineComparer.Differences(reviewed, snapshot, BaselineRule.Exact), Is.Empty, "a round trip through JSON changes nothing");
            Assert.That(() => store.Accept("default", "c-test", "again"), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("Nothing to accept"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void TheExactRuleToleratesOnly1e9Relative()
    {
        var reviewed = Snapshot(Outcome(Verdicts.Reproduced, [2, 3, 4], lower: 1, upper: 3));
        var tiny = Snapshot(Outcome(Verdicts.Reproduced, [2 * (1 + 1e-12), 3, 4], lower: 1, upper: 3));
        Assert.That(BaselineComparer.Differences(reviewed, tiny, BaselineRule.Exact), Is.Empty, "1e-12 relative is within 1e-9");
        var moved = BaselineComparer.Differences(reviewed, Snapshot(Outcome(Verdicts.Reproduced, [2 * (1 + 1e-8), 3, 4], lower: 1, upper: 3)), BaselineRule.Exact);
        Assert.That(moved, Has.Some.Contains("seed 0 WD 2 -> 2"), "1e-8 relative on one seed is a difference, named by seed");
        var p = BaselineComparer.Differences(reviewed, Snapshot(Outcome(Verdicts.Reproduced, [2, 3, 4], lower: 1, upper: 3, pAdjusted: 0.0100001)), BaselineRule.Exact);
        Assert.That(p, Has.Some.Contains("p adjusted 0.01 -> 0.0100001"));
        Assert.That(BaselineComparer.Differences(reviewed, Snapshot(Outcome(Verdicts.Reproduced, [2, 3, 4], lower: 1, upper: 3, pAdjusted: 0.0100001)), BaselineRule.Statistical), Is.Empty,
            "the statistical rule does not look at p beyond the verdict");
    }

    [Test]
    public void TheStatisticalRuleHoldsVerdictsAndTheEffectInsideItsInterval()
    {
        var reviewed = Snapshot(Outcome(Verdicts.Reproduced, [2, 2, 2], lower: 0.5, upper: 1.5));
        // Median difference 1 -> 1.4: inside [0.5, 1.5]; every value differs, so the exact rule would fail.
        var near = Snapshot(Outcome(Verdicts.Reproduced, [2.4, 2.4, 2.4]));
        Assert.That(BaselineComparer.Differences(reviewed, near, BaselineRule.Statistical), Is.Empty);
        Assert.That(BaselineComparer.Differences(reviewed, near, BaselineRule.Exact), Is.Not.Empty);
        var outside = BaselineComparer.Differences(reviewed, Snapshot(Outcome(Verdicts.Reproduced, [2.6, 2.6, 2.6])), BaselineRule.Statistical);
        Assert.That(outside, Has.Some.Contains("median difference 1.6 outside the baseline's bootstrap interval [0.5, 1.5]"));
        var reversed = BaselineComparer.Differences(reviewed, Snapshot(Outcome(Verdicts.Reproduced, [0.5, 0.5, 0.5])), BaselineRule.Statistical);
        Assert.That(reversed, Has.Some.Contains("sign +1 -> -1"));
        var verdict = BaselineComparer.Differences(reviewed, Snapshot(Outcome(Verdicts.Inconclusive, [2, 2, 2])), BaselineRule.Statistical);
        Assert.That(verdict, Has.Some.Contains("verdict: baseline 'reproduced', now 'inconclusive'"));
    }

    [Test]
    public void TheRuleIsExactOnlyInTheBaselinesEnvironment()
    {
        var reviewed = Snapshot(Outcome(Verdicts.Reproduced, [2, 2, 2]));
        Assert.That(BaselineComparer.RuleFor(reviewed, Here), Is.EqualTo(BaselineRule.Exact));
        Assert.That(BaselineComparer.RuleFor(reviewed, Here with { Workers = 1 }), Is.EqualTo(BaselineRule.Statistical));
        Assert.That(BaselineComparer.RuleFor(reviewed, Here with { Threads = 8 }), Is.EqualTo(BaselineRule.Statistical));
        Assert.That(BaselineComparer.RuleFor(reviewed, Here with { Cpu = "Another CPU" }), Is.EqualTo(BaselineRule.Statistical));
        Assert.That(BaselineComparer.RuleFor(reviewed, Here with { TorchSharp = "0.108.0.0" }), Is.EqualTo(BaselineRule.Statistical));
    }

    [Test]
    public void AHandBrokenBaselineNamesFileAndField()
    {
        var folder = Repository.TempFolder("baselines");
        try
        {
            var store = new BaselineStore(folder);
            store.WriteReceived(Snapshot(Outcome(Verdicts.Inconclusive, [2, 2, 2])));
            store.Accept("default", "c-test", "ok");
            var path = store.PathOf("default", "c-test");
            var good = File.ReadAllText(path);
            File.WriteAllText(path, good.Replace("\"fisher_rao\"", "\"fisher_raw\""));
            Assert.That(() => store.Read("default", "c-test"), Throws.TypeOf<SpecException>()
                .With.Message.Contains(path).And.Message.Contains("$.comparisons[0].metric: unknown value 'fisher_raw'"));
            File.WriteAllText(path, good.Replace("\"seeds\": [", "\"seeds\": [-1, "));
            Assert.That(() => store.Read("default", "c-test"), Throws.TypeOf<SpecException>()
                .With.Message.Contains("$.comparisons[0].seeds[0]: expected a non-negative integer, found -1"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void DefaultBaselinesWereRecordedFromCommittedCodeAndReviewed()
    {
        var files = Directory.GetFiles(Repository.Path("baselines", "default"), "*.json").Where(f => !f.EndsWith(".received.json", StringComparison.Ordinal)).ToList();
        Assert.That(files, Is.Not.Empty);
        foreach (var file in files)
        {
            var b = BaselineStore.ReadFile(file);
            Assert.That(b.CodeVersion, Is.Not.Empty.And.Not.EqualTo("unknown").And.Not.EndsWith("-dirty"), $"{file}: recorded from uncommitted code");
            Assert.That(b.Review, Is.Not.Empty, $"{file}: not reviewed");
        }
    }
}
