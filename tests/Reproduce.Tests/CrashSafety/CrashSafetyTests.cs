using System.Diagnostics;
using System.Text;
using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;
using Reproduce.Training;

namespace Reproduce.Tests.CrashSafety;

/// <summary>
/// Crash safety with real processes: the built CLI is SIGKILLed (Process.Kill sends SIGKILL on Linux) while training,
/// while measuring, while writing the report, during `baselines accept` and during `merge`, then the same command is
/// run again. The result store must then equal an uninterrupted run's bit for bit (every run, every metric's bits,
/// every stored prediction; checkpoints and reports byte for byte), a report or baseline file must be the old bytes
/// or the new ones, never a torn file, and a second process on a folder in use must be refused while the kernel frees
/// the lock of a killed one. Each kill lands at a named point through the test-only REPRODUCE_TEST_PAUSE_AT hook
/// (<see cref="TestPause"/>): the child stops there, says so on stderr, and is killed. The fixture is a throw-away
/// repository root with two claims on a tiny Fashion-MNIST setting (9 runs of 2 epochs, 57 metrics, 2 workers as the
/// default configuration); one uninterrupted reference run serves every test.
/// </summary>
[TestFixture, Category("CrashSafety"), NonParallelizable]
public class CrashSafetyTests
{
    private const int Runs = 9;
    private string root = "";
    private string referenceFolder = "";
    private StoreSnapshot reference = null!;
    private byte[] reportWithoutBaselines = [];

    private string[] Common => ["--root", root, "--profile", "smoke", "--threads", "2", "--workers", "2"];
    private string[] RunArgs(string output) => ["run", .. Common, "--output", output];
    private string[] ReportArgs(string output) => ["report", .. Common, "--output", output];
    private static string StorePath(string output) => Path.Combine(output, "smoke.sqlite");
    private string Fresh(string name) => Path.Combine(root, name);

    [OneTimeSetUp]
    public void RecordTheUninterruptedReference()
    {
        root = Repository.TempFolder("crash-safety");
        WriteFixture(root);
        referenceFolder = Fresh("reference");
        // No baselines yet: exit 1 and a received snapshot per claim, which become the baselines of every later run.
        Expect(1, Cli(null, RunArgs(referenceFolder)));
        reportWithoutBaselines = File.ReadAllBytes(Path.Combine(referenceFolder, "report.html"));
        Expect(0, Cli(null, ["baselines", "accept", "--all", "--review", "crash-safety reference", .. Common]));
        Expect(0, Cli(null, ReportArgs(referenceFolder)));
        Assert.That(File.ReadAllBytes(Path.Combine(referenceFolder, "report.html")), Is.Not.EqualTo(reportWithoutBaselines), "the report names the baseline verdicts now");
        reference = StoreSnapshot.Read(StorePath(referenceFolder));
        Assert.That(reference.Runs, Has.Count.EqualTo(Runs));
        Assert.That(reference.Predictions, Has.Count.EqualTo(Runs));
        Assert.That(reference.Metrics, Has.Count.EqualTo(57));
    }

    [OneTimeTearDown]
    public void DeleteTheFixture()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Test]
    public void KilledWhileTrainingResumesToTheUninterruptedStore()
    {
        string output = Fresh("kill-training");
        KillAt("training#5", null, RunArgs(output));
        var killed = StoreSnapshot.Read(StorePath(output));
        Report("training#5", killed);
        Assert.That(killed.Runs, Has.Count.LessThan(Runs), "the kill landed before every run was trained");
        AssertOnlyCompleteRows(killed);
        Assert.That(File.Exists(Path.Combine(output, "report.html")), Is.False);

        var resumed = Expect(0, Cli(null, RunArgs(output)));
        Assert.That(resumed.Err, Does.Match(@"Trained [1-9]"), "the resumed run trains what the killed one had not stored");
        AssertSameAsReference(output);
    }

    /// <summary>With checkpoints a partly measured run is re-measured from its checkpoint; without, it is retrained.</summary>
    [TestCase(true)]
    [TestCase(false)]
    public void KilledWhileMeasuringResumesToTheUninterruptedStore(bool checkpoints)
    {
        string output = Fresh($"kill-measuring-{(checkpoints ? "checkpoints" : "no-checkpoints")}");
        var environment = new Dictionary<string, string> { ["REPRODUCE__Checkpoints"] = checkpoints ? "true" : "false" };
        KillAt("measuring#20", environment, RunArgs(output));
        var killed = StoreSnapshot.Read(StorePath(output));
        var partlyMeasured = killed.Runs.Keys.Where(k => killed.MeasuredMetricsOf(k) < reference.MeasuredMetricsOf(k)).ToList();
        Report("measuring#20", killed, $"{partlyMeasured.Count} stored run(s) partly measured");
        Assert.That(partlyMeasured, Is.Not.Empty, "the kill left a stored run with metrics still to measure");
        AssertOnlyCompleteRows(killed);

        var resumed = Expect(0, Cli(environment, RunArgs(output)));
        Assert.That(resumed.Err, Does.Match(checkpoints ? @"re-measured from checkpoints [1-9]" : @"Trained [1-9]"));
        // Without checkpoints there are no checkpoint files to compare; the store (spectra included) and the reports must agree.
        AssertSameAsReference(output, compareCheckpoints: checkpoints);
    }

    [Test]
    public void KilledWhileWritingTheReportLeavesNoTornReport()
    {
        string output = Fresh("kill-report");
        string html = Path.Combine(output, "report.html");
        KillAt("rename:report.html", null, RunArgs(output));
        // Everything before the report is stored; the new report is complete in its temporary file, not yet renamed.
        Assert.That(StoreSnapshot.Read(StorePath(output)).DifferencesFrom(reference), Is.Empty);
        Assert.That(File.Exists(html), Is.False, "no report yet: absent, not half of one");
        var temporary = Directory.GetFiles(output, ".report.html.*.tmp");
        Assert.That(temporary, Has.Length.EqualTo(1));
        Assert.That(File.ReadAllBytes(temporary[0]), Is.EqualTo(File.ReadAllBytes(Path.Combine(referenceFolder, "report.html"))));
        foreach (var file in new[] { "report.md", "outcomes.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(output, file)), Is.EqualTo(File.ReadAllBytes(Path.Combine(referenceFolder, file))), file);

        Expect(0, Cli(null, RunArgs(output)));
        AssertSameAsReference(output);

        // An old report exists now: a different one (rendered without baselines) is killed at its rename, and the
        // old bytes stay; the re-run writes the new one whole.
        var noBaselines = new Dictionary<string, string> { ["REPRODUCE__BaselinesFolder"] = Fresh("no-baselines") };
        var old = File.ReadAllBytes(html);
        Assert.That(reportWithoutBaselines, Is.Not.EqualTo(old), "the two reports differ, so old and new can be told apart");
        KillAt("rename:report.html", noBaselines, ReportArgs(output));
        Assert.That(File.ReadAllBytes(html), Is.EqualTo(old), "the old report, untouched");
        Expect(1, Cli(noBaselines, ReportArgs(output)));
        Assert.That(File.ReadAllBytes(html), Is.EqualTo(reportWithoutBaselines), "the new report, whole");
        AssertNoLeftovers(output);
    }

    [Test]
    public void KilledDuringBaselinesAcceptLeavesEachBaselineOldOrNew()
    {
        const string review = "crash-safety test: accepted again";
        string folder = Fresh("kill-accept");
        string smoke = Path.Combine(folder, "smoke");
        Directory.CreateDirectory(smoke);
        var claims = new[] { "t1-wd", "t2-sam" };
        var oldBytes = new Dictionary<string, byte[]>();
        var newBytes = new Dictionary<string, byte[]>();
        foreach (var claim in claims)
        {
            // The reviewed baseline (old) and a pending received snapshot; accepting it with a new review gives new bytes.
            string accepted = Path.Combine(root, "baselines", "smoke", $"{claim}.json");
            File.Copy(accepted, Path.Combine(smoke, $"{claim}.json"));
            File.Copy(accepted, Path.Combine(smoke, $"{claim}.received.json"));
            oldBytes[claim] = File.ReadAllBytes(accepted);
            newBytes[claim] = Encoding.UTF8.GetBytes(BaselineStore.Serialise(BaselineStore.ReadFile(Path.Combine(smoke, $"{claim}.received.json")) with { Review = review }));
            Assert.That(newBytes[claim], Is.Not.EqualTo(oldBytes[claim]));
        }
        var environment = new Dictionary<string, string> { ["REPRODUCE__BaselinesFolder"] = folder };
        string[] accept = ["baselines", "accept", "--all", "--review", review, .. Common];
        void AssertBaseline(string claim, byte[] expected, string which)
        {
            string path = Path.Combine(smoke, $"{claim}.json");
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(expected), $"{claim}.json is the {which} file");
            Assert.That(BaselineStore.ReadFile(path).Claim, Is.EqualTo(claim), "and the suite's reader takes it");
        }
        bool Pending(string claim) => File.Exists(Path.Combine(smoke, $"{claim}.received.json"));

        KillAt("rename:t1-wd.json", environment, accept);
        AssertBaseline("t1-wd", oldBytes["t1-wd"], "old");
        AssertBaseline("t2-sam", oldBytes["t2-sam"], "old");
        Assert.That(Pending("t1-wd") && Pending("t2-sam"), Is.True);

        KillAt("rename:t2-sam.json", environment, accept);
        AssertBaseline("t1-wd", newBytes["t1-wd"], "new");
        AssertBaseline("t2-sam", oldBytes["t2-sam"], "old");
        Assert.That(Pending("t1-wd"), Is.False);
        Assert.That(Pending("t2-sam"), Is.True);

        var resumed = Expect(0, Cli(environment, accept));
        Assert.That(resumed.Out, Does.Contain("t2-sam.json").And.Not.Contain("t1-wd.json"));
        AssertBaseline("t1-wd", newBytes["t1-wd"], "new");
        AssertBaseline("t2-sam", newBytes["t2-sam"], "new");
        Assert.That(Pending("t1-wd") || Pending("t2-sam"), Is.False);
        AssertNoLeftovers(folder);
    }

    [Test]
    public void KilledDuringMergeResumesToTheUnsplitStore()
    {
        string output = Fresh("kill-merge");
        Expect(0, Cli(null, ["run", .. Common, "--output", output, "--shard", "1/2"]));
        Expect(0, Cli(null, ["run", .. Common, "--output", output, "--shard", "2/2"]));
        string[] merge = ["merge", StorePath(Path.Combine(output, "shard-1-of-2")), StorePath(Path.Combine(output, "shard-2-of-2")), .. Common, "--output", output];

        // Killed after the copy, while the merged store's per-group metrics (disagreement over all seeds) are computed.
        KillAt("group#2", null, merge);
        var killed = StoreSnapshot.Read(StorePath(output));
        Report("group#2 (merge)", killed);
        Assert.That(killed.Runs, Has.Count.EqualTo(Runs));
        Assert.That(killed.Metrics.Count, Is.LessThan(reference.Metrics.Count));
        AssertOnlyCompleteRows(killed);
        Expect(0, Cli(null, merge));
        AssertStoreAsReference(output);

        // Again from an empty target, killed while copying runs.
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(StorePath(output) + suffix);
        KillAt("merge-run#3", null, merge);
        killed = StoreSnapshot.Read(StorePath(output));
        Report("merge-run#3", killed);
        Assert.That(killed.Runs, Has.Count.EqualTo(2));
        AssertOnlyCompleteRows(killed);
        Expect(0, Cli(null, merge));
        AssertStoreAsReference(output);

        // And a merge of the same shards once more adds nothing and changes nothing.
        var again = Expect(0, Cli(null, merge));
        Assert.That(again.Err, Does.Contain("0 runs and 0 metrics added"));
        AssertStoreAsReference(output);
    }

    [Test]
    public void ASecondProcessOnAFolderInUseIsRefusedAndAKilledHolderLeavesNoLock()
    {
        string output = Fresh("lock");
        using (var holder = PauseAt("training#1", null, RunArgs(output)))
        {
            string link = Fresh("lock-link");
            Directory.CreateSymbolicLink(link, output);
            foreach (var (what, args) in new (string, string[])[]
            {
                ("run", RunArgs(output)), ("report", ReportArgs(output)),
                ("merge", ["merge", StorePath(referenceFolder), .. Common, "--output", output]),
                ("run through a symbolic link", RunArgs(link)),
            })
            {
                var refused = Cli(null, args);
                Assert.That(refused.Code, Is.EqualTo(2), $"{what}: {refused.Err}");
                Assert.That(refused.Err, Does.Contain("is in use by another reproduce process").And.Contain($"pid {holder.Pid}").And.Contain("run --root"), what);
                Assert.That(refused.Err, Does.Contain(what.StartsWith("run through") ? link : output), $"{what}: the message names the folder");
            }
            var inProcess = Assert.Throws<OutputFolderInUseException>(() => OutputFolderLock.Acquire(output).Dispose())!;
            Assert.That(inProcess.Holder, Does.StartWith($"pid {holder.Pid},"));
            holder.Kill();
        }
        // The kernel dropped the lock with the process: no stale lock to clear by hand.
        using (OutputFolderLock.Acquire(output)) { }
        Expect(0, Cli(null, RunArgs(output)));
        AssertSameAsReference(output);
    }

    /// <summary>The comparison is as strict as it claims: one ulp of one metric and one byte of one prediction show.</summary>
    [Test]
    public void TheStoreComparisonSeesOneUlpAndOneByte()
    {
        string folder = Fresh("altered");
        Directory.CreateDirectory(folder);
        string copy = StorePath(folder);
        File.Copy(StorePath(referenceFolder), copy);
        Assert.That(StoreSnapshot.Read(copy).DifferencesFrom(reference), Is.Empty);
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            c.Open();
            using var command = c.CreateCommand();
            command.CommandText = """
                UPDATE metrics SET value = $v WHERE rowid = (SELECT min(rowid) FROM metrics WHERE metric = 'fisher_rao');
                UPDATE predictions SET probabilities = $p WHERE rowid = (SELECT min(rowid) FROM predictions);
                """;
            var metric = reference.Metrics.First(m => m.Key.EndsWith(" / fisher_rao", StringComparison.Ordinal));
            double value = double.Parse(metric.Value.Split('(', ')')[1], System.Globalization.CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue("$v", Math.BitIncrement(value));
            var p = reference.Predictions.First().Value.Probabilities.ToArray();
            p[^1] ^= 1;
            command.Parameters.AddWithValue("$p", p);
            command.ExecuteNonQuery();
        }
        var differences = StoreSnapshot.Read(copy).DifferencesFrom(reference);
        Assert.That(differences, Has.Count.EqualTo(2), string.Join("\n", differences));
        Assert.That(differences, Has.Some.StartsWith("metrics: ").And.Some.StartsWith("predictions: "));
    }

    // ---- helpers ----

    private void Report(string point, StoreSnapshot killed, string more = "") => TestContext.Out.WriteLine(
        $"killed at {point}: {killed.Runs.Count} of {reference.Runs.Count} runs, {killed.Metrics.Count} of {reference.Metrics.Count} metrics, " +
        $"{killed.Predictions.Count} predictions stored{(more.Length > 0 ? "; " + more : "")}");

    private static (int Code, string Out, string Err) Cli(IReadOnlyDictionary<string, string>? environment, string[] args) => CliProcess.Run(environment, 120, args);

    private static (int Code, string Out, string Err) Expect(int code, (int Code, string Out, string Err) result)
    {
        Assert.That(result.Code, Is.EqualTo(code), $"exit code; stderr:\n{result.Err}\nstdout:\n{result.Out}");
        return result;
    }

    /// <summary>Every row a killed process left is complete and equal to the reference's (only missing rows allowed).</summary>
    private void AssertOnlyCompleteRows(StoreSnapshot killed)
    {
        Assert.That(killed.Integrity, Is.EqualTo("ok"));
        var wrong = killed.DifferencesFrom(reference).Where(d => !d.EndsWith(" missing", StringComparison.Ordinal)).ToList();
        Assert.That(wrong.Count, Is.Zero, $"rows that differ from the reference's:\n{string.Join("\n", wrong.Take(5))}");
        Assert.That(killed.Predictions.Keys, Is.EquivalentTo(killed.Runs.Keys), "a run and its predictions are stored together");
    }

    private void AssertStoreAsReference(string output)
    {
        var differences = StoreSnapshot.Read(StorePath(output)).DifferencesFrom(reference);
        Assert.That(differences.Count, Is.Zero, $"differences from the uninterrupted run's store:\n{string.Join("\n", differences.Take(10))}");
    }

    /// <summary>Store bit for bit, checkpoints and reports byte for byte, and no temporary or holder file left.</summary>
    private void AssertSameAsReference(string output, bool compareCheckpoints = true)
    {
        AssertStoreAsReference(output);
        if (compareCheckpoints)
        {
            string Folder(string o) => Path.Combine(o, "checkpoints");
            var expected = Directory.GetFiles(Folder(referenceFolder)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.That(Directory.GetFiles(Folder(output)).Select(Path.GetFileName).Order(StringComparer.Ordinal), Is.EqualTo(expected));
            foreach (var name in expected)
                Assert.That(File.ReadAllBytes(Path.Combine(Folder(output), name!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(Folder(referenceFolder), name!))), $"checkpoint {name}");
        }
        // The report renders stored results only (spectra included), so it is byte-identical with or without checkpoints.
        foreach (var file in new[] { "report.html", "report.md", "outcomes.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(output, file)), Is.EqualTo(File.ReadAllBytes(Path.Combine(referenceFolder, file))), file);
        AssertNoLeftovers(output);
    }

    private static void AssertNoLeftovers(string folder)
    {
        Assert.That(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories), Is.Empty, "temporary files of killed writers are cleaned up by the next write");
        Assert.That(File.Exists(Path.Combine(folder, OutputFolderLock.HolderFileName)), Is.False, "the holder note goes with the lock");
    }

    /// <summary>A CLI process stopped at a pause point, killed with SIGKILL when disposed (if not before).</summary>
    private sealed class Paused(Process process, StringBuilder stderr) : IDisposable
    {
        public int Pid => process.Id;

        public void Kill()
        {
            process.Kill(entireProcessTree: true);
            Assert.That(process.WaitForExit(30_000), Is.True, "the killed process is gone");
            Assert.That(process.ExitCode, Is.EqualTo(128 + 9), $"ended by SIGKILL; stderr:\n{stderr}");
        }

        public void Dispose()
        {
            if (!process.HasExited) { process.Kill(entireProcessTree: true); process.WaitForExit(30_000); }
            process.Dispose();
        }
    }

    private static Paused PauseAt(string point, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { [TestPause.Variable] = point };
        var process = CliProcess.Start(env, args);
        var stderr = new StringBuilder();
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (e.Data.StartsWith($"REPRODUCE_TEST_PAUSED {point.Split('#')[0]}#", StringComparison.Ordinal)) paused.TrySetResult();
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var handle = new Paused(process, stderr);
        var first = Task.WhenAny(paused.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120))).Result;
        if (first != paused.Task)
        {
            handle.Dispose();
            Assert.Fail($"the CLI never reached pause point {point} ({string.Join(' ', args)}); stderr:\n{stderr}");
        }
        return handle;
    }

    private static void KillAt(string point, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        using var paused = PauseAt(point, environment, args);
        paused.Kill();
    }

    private static void WriteFixture(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "claims", "settings"));
        File.WriteAllText(Path.Combine(root, "claims", "settings", "tiny.json"), """
            { "name": "tiny", "regimes": ["Base", "WD", "SAM"], "profiles": { "smoke": {
              "data": "fashion-mnist", "model": { "kind": "mlp", "inputShape": [784], "classes": 10, "widths": [784, 16, 10] },
              "trainSize": 120, "testSize": 100, "measureSize": 60, "epochs": 2, "batchSize": 30, "learningRate": 0.05, "momentum": 0.9,
              "seeds": 3, "samDraws": 3, "hessianProbes": 2, "robustnessSize": 50 } } }
            """);
        File.WriteAllText(Path.Combine(root, "claims", "t1-wd.json"), """
            { "id": "t1-wd", "statement": "WD raises the Fisher-Rao norm", "source": { "paper": "test", "location": "here" }, "kind": "comparison",
              "settings": ["tiny"], "reference": "Base", "regimes": ["WD"], "metrics": ["fisher_rao"], "direction": "higher",
              "test": "wilcoxon-signed-rank", "family": "paper-sharpness", "support": "moderate" }
            """);
        File.WriteAllText(Path.Combine(root, "claims", "t2-sam.json"), """
            { "id": "t2-sam", "statement": "SAM is more consistent", "source": { "paper": "test", "location": "here" }, "kind": "comparison",
              "settings": ["tiny"], "reference": "Base", "regimes": ["SAM"], "metrics": ["disagreement"], "direction": "lower",
              "test": "model-permutation", "family": "paper-safety", "support": "moderate" }
            """);
    }
}
