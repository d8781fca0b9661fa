using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Baselines;

[TestFixture, Category("Unit")]
public class BaselineTests
{
    private static ClaimOutcome Outcome(string verdict, double regimeMedian) => new()
    {
        ClaimId = "c-test", Statement = "s", Support = "moderate", Kind = "comparison", Profile = "smoke", Verdict = verdict,
        Convergence = [new Convergence("mlp", 1, 0.01, true)], Correlations = [],
        Comparisons = [new ComparisonOutcome
        {
            Setting = "mlp", Metric = "fisher_rao", Reference = "Base", Regime = "WD", Expected = "higher", Family = "sharpness",
            Seeds = [0, 1, 2], ReferenceValues = [1, 1, 1], RegimeValues = [2, 2, 2], ReferenceMedian = 1.0, RegimeMedian = regimeMedian,
            P = 0.125, POpposite = 1, PAdjusted = 0.3, Verdict = verdict,
        }],
    };

    [Test]
    public void ReceivedAcceptAndCompareWorkflow()
    {
        var folder = Repository.TempFolder("baselines");
        try
        {
            var store = new BaselineStore(folder);
            var snapshot = BaselineStore.FromOutcome(Outcome(Verdicts.Inconclusive, 2.0), "abc");
            string received = store.WriteReceived(snapshot);
            Assert.That(File.Exists(received), Is.True);
            Assert.That(store.Read("smoke", "c-test"), Is.Null, "writing a received file never creates the baseline");
            store.Accept("smoke", "c-test", "reviewed in a test");
            Assert.That(File.Exists(received), Is.False);
            var reviewed = store.Read("smoke", "c-test")!;
            Assert.That(reviewed.Review, Is.EqualTo("reviewed in a test"));
            Assert.That(BaselineComparer.Differences(reviewed, snapshot), Is.Empty, "a round trip through JSON changes nothing");

            // Within the band (20%): no difference. Outside: the median is named. A verdict change: named.
            Assert.That(BaselineComparer.Differences(reviewed, BaselineStore.FromOutcome(Outcome(Verdicts.Inconclusive, 2.3), "abc")), Is.Empty);
            var moved = BaselineComparer.Differences(reviewed, BaselineStore.FromOutcome(Outcome(Verdicts.Inconclusive, 2.6), "abc"));
            Assert.That(moved, Has.Count.EqualTo(1).And.Some.Contains("WD median 2.6 outside [1.6, 2.4]"));
            var flipped = BaselineComparer.Differences(reviewed, BaselineStore.FromOutcome(Outcome(Verdicts.Reproduced, 2.0), "abc"));
            Assert.That(flipped, Has.Some.Contains("verdict: baseline 'inconclusive', now 'reproduced'"));
            Assert.That(() => store.Accept("smoke", "c-test", "again"), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("Nothing to accept"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void AHandBrokenBaselineNamesFileAndField()
    {
        var folder = Repository.TempFolder("baselines");
        try
        {
            var store = new BaselineStore(folder);
            store.WriteReceived(BaselineStore.FromOutcome(Outcome(Verdicts.Inconclusive, 2.0), "abc"));
            store.Accept("smoke", "c-test", "ok");
            var path = store.PathOf("smoke", "c-test");
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"fisher_rao\"", "\"fisher_raw\""));
            Assert.That(() => store.Read("smoke", "c-test"), Throws.TypeOf<SpecException>()
                .With.Message.Contains(path).And.Message.Contains("$.comparisons[0].metric: unknown value 'fisher_raw'"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
