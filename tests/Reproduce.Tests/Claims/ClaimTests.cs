using NUnit.Framework;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims;

/// <summary>
/// The parameterised suite: one test per claim in claims/, at the smoke profile (small enough for `dotnet test`).
/// All claims' runs are trained once (a fresh store per test session), then each test compares its claim's outcome
/// with the reviewed baseline in baselines/smoke/. A difference fails the test with a readable diff and writes
/// &lt;claim&gt;.received.json beside the baseline; `reproduce baselines accept` promotes it after review.
/// </summary>
[TestFixture, Category("Claim"), Category("smoke"), NonParallelizable]
public class ClaimTests
{
    private const string Profile = "smoke";
    private static Dictionary<string, ClaimOutcome>? outcomes;
    private static string? setupError;
    private static string output = "";
    private static string codeVersion = "";

    private static IEnumerable<TestCaseData> Claims()
    {
        IReadOnlyList<ClaimSpec> claims;
        string? error = null;
        try
        {
            var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
            claims = ClaimLoader.LoadFolder(Repository.Path("claims"), settings);
        }
        catch (SpecException e) { claims = []; error = e.Message; }
        if (error is not null) { yield return new TestCaseData("(claims folder)").SetName("Claims folder is valid"); yield break; }
        foreach (var c in claims)
            yield return new TestCaseData(c.Id).SetName(c.Id).SetCategory(Profile).SetDescription(c.Statement);
    }

    [OneTimeSetUp]
    public void RunTheSmokeProfile()
    {
        output = Repository.TempFolder("claims-smoke");
        codeVersion = Provenance.GitVersion(Repository.Root);
        try
        {
            var suite = ClaimSuite.Load(ReproduceOptions.Load(Repository.Root, new Dictionary<string, string?>
            {
                ["Profile"] = Profile, ["OutputFolder"] = output, ["Filter"] = "", ["Checkpoints"] = "false",
            }));
            using var store = suite.OpenStore();
            var summary = suite.Execute(suite.Plan(), store);
            if (summary.Failed > 0) setupError = "runs failed: " + string.Join("; ", summary.Failures);
            outcomes = suite.Evaluate(store).ToDictionary(o => o.ClaimId);
        }
        catch (Exception e) when (e is SpecException or ArgumentException or FileNotFoundException or InvalidDataException)
        {
            setupError = e.Message;
        }
    }

    [OneTimeTearDown]
    public void Clean()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
    }

    [TestCaseSource(nameof(Claims))]
    public void MatchesItsReviewedBaseline(string claimId)
    {
        Assert.That(setupError, Is.Null, $"the smoke run could not complete: {setupError}");
        Assert.That(outcomes!.TryGetValue(claimId, out var outcome), Is.True, $"no outcome for {claimId}");
        var check = new BaselineStore(Repository.Path("baselines")).Check(outcome!, codeVersion);
        TestContext.Out.WriteLine($"{claimId}: {outcome!.Verdict} ({outcome.VerdictNote})");
        foreach (var c in outcome.Comparisons)
            TestContext.Out.WriteLine($"  {c.Setting} {c.Metric} {c.Regime} vs {c.Reference}: medians {c.RegimeMedian:g4} vs {c.ReferenceMedian:g4}, r {c.RankBiserial:0.##}, p {c.P:0.####}, p adj {c.PAdjusted:0.####}: {c.Verdict}");
        if (check.Reviewed is null)
            Assert.Fail($"{claimId} has no reviewed baseline. Review {check.ReceivedPath} and accept it with `reproduce baselines accept {claimId} --profile {Profile}`.");
        if (!check.Matches)
            Assert.Fail($"{claimId} differs from its reviewed baseline (new snapshot: {check.ReceivedPath}):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", check.Differences));
        Assert.That(outcome.Verdict, Is.EqualTo(check.Reviewed!.Verdict));
    }
}
