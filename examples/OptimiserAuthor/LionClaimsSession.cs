using Reproduce.Claims;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;

namespace OptimiserAuthor;

/// <summary>
/// The claims run with Lion, once per test session and shared by the claim tests, at the smoke profile (3 seeds):
/// <list type="number">
/// <item>the example's own claims (claims/ here: Lion vs Base on the suite's mlp setting), with the Lion regime added
/// to the mlp setting's regimes;</item>
/// <item>a few of the paper's claims re-run with every SGD-trained setting switched to Lion (learning rate x
/// <see cref="LionRegistration.LearningRateScale"/>), each held to the suite's reviewed baseline for it, which was
/// trained with SGD: the moved-verdicts table.</item>
/// </list>
/// Everything goes to results/&lt;profile&gt;/ in this folder (git-ignored): the result store, the copied baselines with
/// a received snapshot per claim whose values moved, and moved-verdicts.md. The store is emptied at the start: runs are
/// keyed by their recipe, not by code, so a store kept across edits of Lion.cs would serve the old Lion's results.
/// </summary>
public static class LionClaimsSession
{
    public const string Profile = "smoke";

    /// <summary>
    /// The paper's claims re-run with Lion. Those on the mlp setting alone (a smoke mlp run trains in under a second)
    /// and one paper claim that also trains the LeNet (c03: SAM wraps Lion as it wraps SGD). The premise of every
    /// classification claim (both sides at 99 % train accuracy) decides most smoke verdicts: SGD's smoke runs stop short
    /// of it (mlp 95 %), Lion's need not.
    /// </summary>
    public static readonly IReadOnlyList<string> PaperClaims = ["c03-sam-sam-sharpness", "r01-large-batch-sharper", "r02-swa-flatter"];

    public sealed record Session(IReadOnlyList<ClaimOutcome> OwnOutcomes, IReadOnlyList<ClaimOutcome> PaperOutcomes, IReadOnlyList<VerdictMove> Moves,
        ExecutionSummary Summary, string OutputFolder, string TablePath, double Seconds)
    {
        public ClaimOutcome? Outcome(string claim) => OwnOutcomes.Concat(PaperOutcomes).FirstOrDefault(o => o.ClaimId == claim);
    }

    private static readonly Lazy<(Session? Session, string? Error)> Shared = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The session's results, or why it could not produce them.</summary>
    public static (Session? Session, string? Error) Get() => Shared.Value;

    private static (Session?, string?) Run()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string output = Example.Path("results", Profile);
        try
        {
            // The suite's configuration (appsettings.json, appsettings.smoke.json, REPRODUCE__* variables), with this
            // example's output folder. Checkpoints off: nothing here re-measures a stored model.
            var suite = ClaimSuite.Load(ReproduceOptions.Load(Example.ReproduceRoot, new Dictionary<string, string?>
            {
                ["Profile"] = Profile, ["OutputFolder"] = output, ["Filter"] = "", ["Checkpoints"] = "false",
            }));

            var withLionRegime = SettingsWith.Regime(suite.Settings, "mlp", LionRegistration.RegimeName);
            var ownClaims = ClaimLoader.LoadFolder(Example.Path("claims"), withLionRegime);
            var trainedWithLion = SettingsWith.Optimiser(suite.Settings, from: "sgd", to: LionRegistration.OptimiserName, LionRegistration.LearningRateScale);
            var paperClaims = PaperClaims.Select(id => suite.AllClaims.FirstOrDefault(c => c.Id == id)
                ?? throw new ArgumentException($"{nameof(PaperClaims)}: no claim '{id}' in {suite.Options.Resolve(suite.Options.ClaimsFolder)}")).ToList();

            // One plan for both, so the executor schedules all runs together (longest first over its workers).
            var plan = Merge(RunPlan.Build(ownClaims, withLionRegime, Profile), RunPlan.Build(paperClaims, trainedWithLion, Profile));
            ExecutionSummary summary;
            ResultSnapshot results;
            using (suite.LockOutput())
            {
                Clear(output, suite.Options.StorePath);
                using var store = suite.OpenStore();
                summary = suite.Execute(plan, store);
                results = ResultSnapshot.Of(store);
            }
            if (summary.Failed > 0) return (null, "runs failed: " + string.Join("; ", summary.Failures));

            // The example's claims form their own families; the paper's are evaluated with the whole catalogue, as the
            // suite does, so their multiple-testing families are the suite's (members without Lion runs enter as p = 1).
            var own = new ClaimEvaluator(results, withLionRegime, Profile, suite.Options.Alpha).Evaluate(ownClaims);
            var paper = new ClaimEvaluator(results, trainedWithLion, Profile, suite.Options.Alpha).Evaluate(paperClaims, suite.AllClaims);
            var moves = ReviewedBaselines.Compare(paper, suite, output);

            string table = Path.Combine(output, "moved-verdicts.md");
            File.WriteAllText(table, $"# The paper's claims re-run with Lion ({Profile} profile)\n\n{ReviewedBaselines.Table(moves, "Lion")}\n" +
                $"Received snapshots (the new values, for review): {Path.Combine(output, "baselines", Profile)}\n");
            Log($"{ownClaims.Count} own claims, {paperClaims.Count} paper claims with Lion: {plan.Runs.Count} runs, trained {summary.Trained}, " +
                $"diverged {summary.Diverged}, in {clock.Elapsed.TotalSeconds:0.0} s; table: {table}");
            return (new Session(own, paper, moves, summary, output, table, clock.Elapsed.TotalSeconds), null);
        }
        catch (Exception e) when (e is SpecException or ArgumentException or FileNotFoundException or InvalidDataException or DirectoryNotFoundException or IOException)
        {
            return (null, e.Message);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>Empties the output folder of an earlier session (its store, baselines copy and table), under its lock.</summary>
    private static void Clear(string output, string storePath)
    {
        foreach (var file in new[] { storePath, storePath + "-wal", storePath + "-shm", Path.Combine(output, "moved-verdicts.md") })
            if (File.Exists(file)) File.Delete(file);
        if (Directory.Exists(Path.Combine(output, "baselines"))) Directory.Delete(Path.Combine(output, "baselines"), recursive: true);
    }

    /// <summary>The union of two plans: each run once, with the metrics either plan wants of it.</summary>
    private static RunPlan Merge(RunPlan a, RunPlan b)
    {
        var runs = a.Runs.Concat(b.Runs).DistinctBy(r => r.Key).ToList();
        var metrics = runs.ToDictionary(r => r.Key, r => (IReadOnlySet<string>)new HashSet<string>(
            (a.MetricsByRun.GetValueOrDefault(r.Key) ?? new HashSet<string>()).Concat(b.MetricsByRun.GetValueOrDefault(r.Key) ?? new HashSet<string>())));
        return new RunPlan(runs, metrics);
    }

    private static void Log(string line) => NUnit.Framework.TestContext.Progress.WriteLine(line);
}

/// <summary>The suite's settings with one thing changed, in memory (the files in claims/settings/ are not touched).</summary>
public static class SettingsWith
{
    /// <summary>The settings with <paramref name="regime"/> added to the regimes <paramref name="setting"/> trains.</summary>
    public static IReadOnlyDictionary<string, SettingSpec> Regime(IReadOnlyDictionary<string, SettingSpec> settings, string setting, string regime)
    {
        if (!settings.TryGetValue(setting, out var spec)) throw new ArgumentException($"No setting '{setting}'; settings: {string.Join(", ", settings.Keys.Order())}.");
        var result = settings.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        result[setting] = spec with { Regimes = [.. spec.Regimes.Append(regime).Distinct()] };
        return result;
    }

    /// <summary>
    /// The settings with every profile that trains with optimiser <paramref name="from"/> trained with <paramref name="to"/>
    /// at <paramref name="learningRateScale"/> times its learning rate. The recipe changes, so the run keys do: nothing
    /// trained with the old optimiser is reused.
    /// </summary>
    public static IReadOnlyDictionary<string, SettingSpec> Optimiser(IReadOnlyDictionary<string, SettingSpec> settings, string from, string to, double learningRateScale) =>
        settings.ToDictionary(p => p.Key, p => p.Value with
        {
            Profiles = p.Value.Profiles.ToDictionary(q => q.Key, q => q.Value.Optimiser == from
                ? q.Value with { Optimiser = to, LearningRate = q.Value.LearningRate * learningRateScale } : q.Value, StringComparer.Ordinal),
        }, StringComparer.Ordinal);
}
