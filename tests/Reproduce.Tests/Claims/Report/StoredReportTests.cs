using AngleSharp.Html.Parser;
using Microsoft.Data.Sqlite;
using NUnit.Framework;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Report;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Store;
using Reproduce.Tests.Claims.Runner;

namespace Reproduce.Tests.Claims.Report;

/// <summary>
/// The report renders stored results only, selected by the plan: the Hessian spectra are measured by `run` and stored
/// by run (seed 0 of each planned setting and regime), the report draws them with no checkpoint and no data set in
/// reach, a run the plan does not name never reaches a figure, the same store renders to the same bytes, and
/// <see cref="ClaimSuite.VerifyAndReport"/> says which verdicts moved against the reviewed baselines. One tiny suite
/// (9 runs) is trained once for the fixture; each test works on a copy of its output folder.
/// </summary>
[TestFixture, Category("RealData"), NonParallelizable]
public class StoredReportTests
{
    private TinySuite tiny = null!;
    private ClaimSuite suite = null!;
    private static readonly Provenance FixedProvenance = new("test", "test", "cpu", 2, "smoke", "test", "test");

    [OneTimeSetUp]
    public void TrainTheTinySuite()
    {
        tiny = new TinySuite();
        suite = tiny.Load(output: "trained");
        using var store = suite.OpenStore();
        var summary = suite.Execute(suite.Plan(), store);
        Assert.That(summary, Has.Property("Trained").EqualTo(9).And.Property("Failed").EqualTo(0), string.Join("; ", summary.Failures));
    }

    [OneTimeTearDown]
    public void Clean() => tiny.Dispose();

    /// <summary>A copy of the trained output folder, loaded with extra configuration (e.g. a data folder that does not exist).</summary>
    private ClaimSuite Copy(string name, bool checkpoints = true, Dictionary<string, string?>? overrides = null)
    {
        SqliteConnection.ClearAllPools();
        string from = suite.Options.Resolve(suite.Options.OutputFolder), to = Path.Combine(tiny.Root, name);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => checkpoints || !f.Contains($"{Path.DirectorySeparatorChar}checkpoints{Path.DirectorySeparatorChar}")))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var all = new Dictionary<string, string?> { ["Profile"] = "smoke", ["OutputFolder"] = name, ["Filter"] = "", ["Checkpoints"] = "true" };
        foreach (var (k, v) in overrides ?? []) all[k] = v;
        return ClaimSuite.Load(ReproduceOptions.Load(tiny.Root, all));
    }

    private static string Render(ClaimSuite s, ResultStore store) =>
        new HtmlReport(s, s.Results(store)).Render(s.Evaluate(store), new Dictionary<string, string>(), FixedProvenance);

    private static byte[] SpectrumFigure(string html, string setting)
    {
        var figure = new HtmlParser().ParseDocument(html).QuerySelector($"figure[data-figure='spectrum:{setting}'] img");
        Assert.That(figure, Is.Not.Null, $"no spectrum figure for {setting}");
        var src = figure!.GetAttribute("src")!;
        return Convert.FromBase64String(src["data:image/png;base64,".Length..]);
    }

    [Test]
    public void EverySeedZeroRunHasItsSpectrumStoredAndOnlyThose()
    {
        using var store = suite.OpenStore();
        var plan = suite.Plan();
        var spectra = store.AllSpectra();
        Assert.That(spectra.Select(s => s.RunKey), Is.EquivalentTo(plan.Runs.Where(r => r.Seed == 0).Select(r => r.Key)), "seed 0 of Base, WD and SAM");
        foreach (var s in spectra)
        {
            // SLQ with 2 probes and 40 Lanczos steps: per probe at most 40 Gauss nodes, whose weights sum to 1.
            Assert.That(s.Nodes, Has.Count.EqualTo(HessianSpectrum.Probes));
            Assert.That(s.Nodes.Select(n => n.Length), Has.All.InRange(1, HessianSpectrum.Steps));
            Assert.That(s.Weights.Select(w => w.Sum()), Has.All.EqualTo(1.0).Within(1e-9));
            Assert.That(s.DetailsJson, Does.Contain("\"probes\":2").And.Contain("\"steps\":40").And.Contain("\"seed\":0").And.Contain("\"samples\":60"));
        }
    }

    [Test]
    public void AMissingSpectrumIsMeasuredAgainLikeAMissingMetricWithTheSameBits()
    {
        var copy = Copy("respectrum");
        using var store = copy.OpenStore();
        var before = store.AllSpectra().Select(Bits).ToList();
        Execute(store, "DELETE FROM spectra");
        // Rendered before `run` measured them: the report names what it lacks instead of drawing it.
        var html = Render(copy, store);
        Assert.That(html, Does.Not.Contain("data-figure=\"spectrum:tiny\""));
        Assert.That(new HtmlParser().ParseDocument(html).QuerySelector("p[data-missing-spectra='tiny']")!.TextContent, Does.Contain("Base, WD, SAM"));

        // From the checkpoints: the stored weights are the trained model's (float32 both), so the bits are those measured
        // from the model in memory right after training and the metrics.
        var fromCheckpoints = copy.Execute(copy.Plan(), store);
        Assert.That(fromCheckpoints, Has.Property("Remeasured").EqualTo(3).And.Property("Cached").EqualTo(6).And.Property("Trained").EqualTo(0));
        Assert.That(store.AllSpectra().Select(Bits), Is.EqualTo(before));

        // Without checkpoints the three seed-0 runs are retrained (deterministically), as for a missing metric.
        Execute(store, "DELETE FROM spectra");
        Directory.Delete(copy.Options.CheckpointFolder, recursive: true);
        var retrained = copy.Execute(copy.Plan(), store);
        Assert.That(retrained, Has.Property("Trained").EqualTo(3).And.Property("Cached").EqualTo(6));
        Assert.That(store.AllSpectra().Select(Bits), Is.EqualTo(before));
        Assert.That(Render(copy, store), Does.Not.Contain("data-missing-spectra"));
    }

    private static string Bits(StoredSpectrum s) => $"{s.RunKey}: " + string.Join(",", s.Nodes.Concat(s.Weights).SelectMany(v => v).Select(BitConverter.DoubleToInt64Bits));

    private static void Execute(ResultStore store, string sql)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.Path, Pooling = false }.ToString());
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Test]
    public void TheReportRendersWithoutCheckpointsOrDataAndTwiceToTheSameBytes()
    {
        string reference;
        using (var store = suite.OpenStore()) reference = Render(suite, store);
        // No checkpoints folder, and a data folder that does not exist: rendering must not need either.
        var bare = Copy("bare", checkpoints: false, overrides: new() { ["FashionMnistFolder"] = Path.Combine(tiny.Root, "no-such-data") });
        Assert.That(Directory.Exists(bare.Options.CheckpointFolder), Is.False);
        using var bareStore = bare.OpenStore();
        string first = Render(bare, bareStore), second = Render(bare, bareStore);
        Assert.That(SpectrumFigure(first, "tiny"), Has.Length.GreaterThan(2000), "the spectra come from the store");
        Assert.That(first, Does.Not.Contain("data-missing-spectra"));
        Assert.That(second, Is.EqualTo(first), "the same store renders to the same bytes");
        Assert.That(first, Is.EqualTo(reference), "and to the bytes of the store that trained it, checkpoints and data beside it");
    }

    [Test]
    public void RunsThePlanDoesNotNameNeverReachTheFigures()
    {
        var copy = Copy("foreign");
        using var store = copy.OpenStore();
        string before = Render(copy, store);
        // A reused store: runs of the same setting under another recipe (same regime and seed, other key), of a
        // regime no claim plans, and of the setting at another profile, each with metrics far off the planned ones.
        var planned = copy.Plan().Runs.First(r => r.Regime.Name == "WD" && r.Seed == 0);
        var mine = store.GetRun(planned.Key)!;
        var foreign = new[]
        {
            mine with { Key = "foreign-recipe-wd-0", SpecJson = "{\"other\":\"recipe\"}" },
            mine with { Key = "foreign-regime-aug-0", Regime = "Aug" },
            mine with { Key = "foreign-profile-wd-0", Profile = "nightly" },
            mine with { Key = "foreign-seed-wd-7", Seed = 7 },
        };
        foreach (var run in foreign)
        {
            store.SaveRun(run, null, null, 0);
            foreach (var m in store.Metrics(planned.Key).Values) store.SaveMetric(m with { RunKey = run.Key, Value = m.Value * 1000 + 1 });
            store.SaveSpectrum(store.Spectrum(planned.Key)! with { RunKey = run.Key, Nodes = [.. store.Spectrum(planned.Key)!.Nodes.Select(n => n.Select(v => v * 50 + 3).ToArray())] });
        }
        Assert.That(store.AllRuns(), Has.Count.EqualTo(9 + foreign.Length));
        string after = Render(copy, store);
        Assert.That(after, Is.EqualTo(before), "the report of the plan's runs, unchanged byte for byte");
        Assert.That(after, Does.Contain(" 9 runs (0 diverged)"));
    }

    [Test]
    public void VerifyAndReportSaysWhichVerdictsMovedAgainstTheReviewedBaselines()
    {
        var copy = Copy("verify", overrides: new() { ["BaselinesFolder"] = Path.Combine(tiny.Root, "verify-baselines") });
        using var store = copy.OpenStore();
        var first = copy.VerifyAndReport(store);
        Assert.That(first.Claims.Select(c => c.ClaimId), Is.EquivalentTo(new[] { "t1-wd", "t2-sam" }));
        Assert.That(first.Regressions, Is.EqualTo(2), "no reviewed baselines yet");
        Assert.That(first.Unreviewed, Is.EquivalentTo(new[] { "t1-wd", "t2-sam" }));
        Assert.That(first.Moved, Is.Empty, "nothing to move against");
        Assert.That(first.Claims.Where(c => c.ReceivedPath is null || !File.Exists(c.ReceivedPath)).Select(c => c.ClaimId), Is.Empty, "a received snapshot per claim");
        foreach (var written in new[] { first.ReportPath, first.MarkdownPath, first.OutcomesPath }) Assert.That(File.Exists(written), written);
        Assert.That(File.ReadAllText(first.ReportPath), Does.Contain("data-figure=\"spectrum:tiny\""));

        var baselines = new BaselineStore(copy.Options.Resolve(copy.Options.BaselinesFolder));
        foreach (var c in first.Claims) baselines.Accept("smoke", c.ClaimId, "test");
        var second = copy.VerifyAndReport(store);
        Assert.That(second.Regressions, Is.EqualTo(0), second.Describe());
        Assert.That(second.Moved, Is.Empty);
        Assert.That(second.Claims.Select(c => c.Rule), Has.All.EqualTo(BaselineRule.Exact));

        // A reviewer's baseline that says otherwise: the verdict moved against it.
        string path = baselines.PathOf("smoke", "t1-wd");
        var reviewed = BaselineStore.ReadFile(path);
        string other = reviewed.Verdict == "reproduced" ? "contradicted" : "reproduced";
        File.WriteAllText(path, File.ReadAllText(path).Replace($"\"verdict\": \"{reviewed.Verdict}\"", $"\"verdict\": \"{other}\"", StringComparison.Ordinal));
        var third = copy.VerifyAndReport(store);
        Assert.That(third.Moved, Is.EqualTo(new[] { new MovedVerdict("t1-wd", other, reviewed.Verdict) }), third.Describe());
        Assert.That(third.Regressions, Is.EqualTo(1));
        Assert.That(third.Describe(), Does.Contain($"t1-wd: {other} -> {reviewed.Verdict}"));
    }
}
