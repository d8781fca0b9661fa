using Reproduce.Claims;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims;

/// <summary>
/// The default profile (every claim, 10 seeds), planned, trained and measured once per test session and shared by all
/// tests in the "Claim" category: the claim tests hold its outcomes to the reviewed baselines, the sensitivity tests
/// re-evaluate its stored values with a claim or a value changed. Runs go to a fresh temporary store that is deleted
/// once its contents are in memory. Set REPRODUCE_CLAIM_TEST_OUTPUT to an output folder to use (and keep) a store
/// there instead, e.g. the results/ of `make reproduce`: only what is missing is then trained.
/// </summary>
public static class DefaultProfileSession
{
    public const string Profile = "default";

    public sealed record Session(ClaimSuite Suite, ResultSnapshot Results, IReadOnlyDictionary<string, ClaimOutcome> Outcomes,
        Provenance Provenance, ExecutionSummary Summary, double Seconds);

    private static readonly Lazy<(Session? Session, string? Error)> Shared = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The session's results, or the reason it could not produce them (a setup error, not an exception).</summary>
    public static (Session? Session, string? Error) Get() => Shared.Value;

    private static (Session?, string?) Run()
    {
        string? kept = Environment.GetEnvironmentVariable("REPRODUCE_CLAIM_TEST_OUTPUT");
        string output = string.IsNullOrEmpty(kept) ? Repository.TempFolder("claims-default") : Path.GetFullPath(kept);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var suite = ClaimSuite.Load(ReproduceOptions.Load(Repository.Root, new Dictionary<string, string?>
            {
                ["Profile"] = Profile, ["OutputFolder"] = output, ["Filter"] = "", ["Checkpoints"] = string.IsNullOrEmpty(kept) ? "false" : "true",
                // No claim reads a Hessian spectrum (report figures only): a fresh session skips them; a kept store is
                // completed as `run` would complete it.
                ["Spectra"] = string.IsNullOrEmpty(kept) ? "false" : "true",
            }));
            ExecutionSummary summary;
            ResultSnapshot results;
            using (var store = suite.OpenStore())
            {
                summary = suite.Execute(suite.Plan(), store);
                results = ResultSnapshot.Of(store);
            }
            if (summary.Failed > 0) return (null, "runs failed: " + string.Join("; ", summary.Failures));
            var outcomes = new ClaimEvaluator(results, suite.Settings, Profile, suite.Options.Alpha).Evaluate(suite.AllClaims).ToDictionary(o => o.ClaimId);
            TestLog($"default profile: {suite.AllClaims.Count} claims; trained {summary.Trained}, from store {summary.Cached}, diverged {summary.Diverged} in {clock.Elapsed.TotalSeconds:0} s");
            return (new Session(suite, results, outcomes, suite.CaptureProvenance(), summary, clock.Elapsed.TotalSeconds), null);
        }
        catch (Exception e) when (e is SpecException or ArgumentException or FileNotFoundException or InvalidDataException or DirectoryNotFoundException)
        {
            return (null, e.Message);
        }
        finally
        {
            if (string.IsNullOrEmpty(kept))
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            }
        }
    }

    private static void TestLog(string line) => NUnit.Framework.TestContext.Progress.WriteLine(line);
}
