using Microsoft.Data.Sqlite;
using NUnit.Framework;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Store;

namespace Reproduce.Tests.Claims.Runner;

[TestFixture, Category("RealData"), NonParallelizable]
public class RunnerTests
{
    [Test]
    public void ClaimsShareRunsAndEachRunIsTrainedOnce()
    {
        using var tiny = new TinySuite();
        var suite = tiny.Load();
        var plan = suite.Plan();
        // Base x 3 seeds shared by both claims, WD x 3, SAM x 3.
        Assert.That(plan.Runs, Has.Count.EqualTo(9));
        Assert.That(plan.Runs.Select(r => r.Key).Distinct().Count(), Is.EqualTo(9));
        var baseRun = plan.Runs.First(r => r.Regime.Name == "Base");
        Assert.That(plan.MetricsByRun[baseRun.Key], Is.SupersetOf(new[] { "fisher_rao", "disagreement", "train_accuracy", "test_accuracy" }));
        Assert.That(new RunSpec("tiny", "smoke", baseRun.SettingProfile, baseRun.Regime, 1).Key, Is.Not.EqualTo(baseRun.Key));
        Assert.That(new RunSpec("tiny", "smoke", baseRun.SettingProfile with { Epochs = 3 }, baseRun.Regime, baseRun.Seed).Key, Is.Not.EqualTo(baseRun.Key));

        using var store = suite.OpenStore();
        var first = suite.Execute(plan, store);
        Assert.That(first, Has.Property("Trained").EqualTo(9).And.Property("Failed").EqualTo(0));
        // Every run left a checkpoint that rebuilds its model and says where it came from.
        var checkpoints = Directory.GetFiles(suite.Options.CheckpointFolder, "*.safetensors");
        Assert.That(checkpoints, Has.Length.EqualTo(9));
        using (var loaded = Reproduce.Training.Checkpoints.Checkpoint.Load(Path.Combine(suite.Options.CheckpointFolder, $"{baseRun.Key}.safetensors")))
        {
            Assert.That(loaded.Metadata.Keys, Is.SupersetOf(new[] { "model_spec", "regime", "seed", "recipe", "data_subset", "code_version", "torchsharp" }));
            Assert.That(loaded.Metadata["regime"], Is.EqualTo("Base"));
            Assert.That(loaded.Metadata["data_subset"], Does.Contain("first 120 training"));
            Assert.That(loaded.Model.Spec, Is.EqualTo(baseRun.SettingProfile.Model));
        }
        var second = suite.Execute(plan, store);
        Assert.That(second, Has.Property("Trained").EqualTo(0).And.Property("Cached").EqualTo(9), "a second run is served from the store");
        var outcomes = suite.Evaluate(store);
        Assert.That(outcomes.Select(o => o.ClaimId), Is.EquivalentTo(new[] { "t1-wd", "t2-sam" }));
        Assert.That(outcomes.SelectMany(o => o.Comparisons).All(c => c.Seeds.Count == 3), Is.True);
        Assert.That(outcomes.SelectMany(o => o.Comparisons).All(c => c.P is >= 0 and <= 1), Is.True);
    }

    [Test]
    public void WithSpectraOffNoSpectrumIsStoredAndALaterRunCompletesThemWithoutTraining()
    {
        using var tiny = new TinySuite();
        var off = tiny.Load(spectra: false);
        var plan = off.Plan();
        var seedZero = plan.Runs.Where(r => r.Seed == 0).Select(r => r.Key).ToList();
        Assert.That(seedZero, Is.Not.Empty);
        using var store = off.OpenStore();
        Assert.That(off.Execute(plan, store), Has.Property("Trained").EqualTo(9));
        Assert.That(seedZero.Select(k => store.Spectrum(k)), Is.All.Null, "Spectra=false measured a spectrum");
        var on = tiny.Load();
        Assert.That(on.Execute(on.Plan(), store), Has.Property("Trained").EqualTo(0), "completing the spectra retrained a run");
        Assert.That(seedZero.Select(k => store.Spectrum(k)), Is.All.Not.Null, "the default run did not complete the spectra");
    }

    [Test]
    public void AnInterruptedRunResumesWithoutRetrainingWhatItFinished()
    {
        using var tiny = new TinySuite();
        var suite = tiny.Load();
        var plan = suite.Plan();
        using var store = suite.OpenStore();
        var partial = suite.Execute(plan.Shard(1, 3), store);
        var rest = suite.Execute(plan, store);
        Assert.That(partial.Trained, Is.EqualTo(3));
        Assert.That(rest.Cached, Is.EqualTo(3));
        Assert.That(rest.Trained, Is.EqualTo(6));
    }

    [Test]
    public void ThreeShardsMergedEqualTheUnsplitRun()
    {
        using var tiny = new TinySuite();
        var suite = tiny.Load();
        var plan = suite.Plan();
        var shards = Enumerable.Range(1, 3).Select(i => plan.Shard(i, 3)).ToList();
        Assert.That(shards.SelectMany(s => s.Runs.Select(r => r.Key)), Is.EquivalentTo(plan.Runs.Select(r => r.Key)), "shards are disjoint and cover the plan");

        using var whole = new ResultStore(Path.Combine(tiny.Root, "whole.sqlite"));
        suite.Execute(plan, whole);
        using var merged = new ResultStore(Path.Combine(tiny.Root, "merged.sqlite"));
        for (int i = 0; i < 3; i++)
        {
            using var part = new ResultStore(Path.Combine(tiny.Root, $"shard{i}.sqlite"));
            suite.Execute(shards[i], part);
            merged.MergeFrom(part);
        }
        // Per-group metrics need every seed: recompute them on the merged store, as `reproduce merge` does. That
        // pass must only compute them: every run, metric and prediction is already there, so nothing is retrained
        // and nothing re-measured from a checkpoint.
        var after = suite.Execute(plan, merged);
        Assert.That(after, Has.Property("Trained").EqualTo(0).And.Property("Remeasured").EqualTo(0)
            .And.Property("Cached").EqualTo(9).And.Property("Failed").EqualTo(0),
            $"after the merge: trained {after.Trained}, remeasured {after.Remeasured}, cached {after.Cached}, failed {after.Failed}");
        Assert.That(Content(merged), Is.EqualTo(Content(whole)));
        AssertSamePredictions(whole, merged, plan.Runs.Select(r => r.Key));
        Assert.That(whole.AllMetrics().Count(m => m.Metric == "disagreement"), Is.EqualTo(6));
    }

    /// <summary>
    /// Workers = 2 (two runs trained side by side, one libtorch thread each) gives the same bits twice, whatever
    /// the scheduling, and the same bits again when the plan lists its runs in the opposite order (up to the order
    /// in which a per-group metric's details list the seeds).
    /// </summary>
    [Test]
    public void TwoWorkersGiveBitIdenticalStoresRunAfterRunAndInAnyPlanOrder()
    {
        using var tiny = new TinySuite();
        // Separate output folders: separate stores and checkpoint folders, so neither execution can reuse the other's work.
        var first = tiny.Load(output: "first", threads: 2, workers: 2);
        var second = tiny.Load(output: "second", threads: 2, workers: 2);
        var reversed = tiny.Load(output: "reversed", threads: 2, workers: 2);
        Assert.That(first.Options, Has.Property("Workers").EqualTo(2).And.Property("Threads").EqualTo(2));
        var plan = first.Plan();
        using var a = first.OpenStore();
        using var b = second.OpenStore();
        using var c = reversed.OpenStore();
        var ranA = first.Execute(plan, a);
        var ranB = second.Execute(second.Plan(), b);
        var backwards = reversed.Plan();
        var ranC = reversed.Execute(new RunPlan(backwards.Runs.Reverse().ToList(), backwards.MetricsByRun), c);
        foreach (var ran in new[] { ranA, ranB, ranC })
            Assert.That(ran, Has.Property("Trained").EqualTo(9).And.Property("Failed").EqualTo(0), string.Join("; ", ran.Failures));
        Assert.That(a.AllMetrics(), Has.Count.GreaterThan(9 * 2));
        Assert.That(Content(b), Is.EqualTo(Content(a)), "two executions with Workers = 2");
        AssertSamePredictions(a, b, plan.Runs.Select(r => r.Key));
        // Known, cosmetic order dependence: a per-group metric's details list the group's seeds in plan order
        // ({"seeds":[2,1,0]} for the reversed plan), so that list is compared as a set. The values are bit-identical
        // here; note that each is a sum over the other seeds in plan order, exact in any order only for 2 others (3 seeds).
        Assert.That(Content(c, seedsAsSet: true), Is.EqualTo(Content(a, seedsAsSet: true)), "Workers = 2 with the plan in reverse order");
        AssertSamePredictions(a, c, plan.Runs.Select(r => r.Key));
    }

    /// <summary>
    /// Everything a run stores (runs, metrics, spectra) except wall-clock time and provenance. Doubles as their IEEE bits (so -0 / 0 and
    /// NaN payloads count as different), which is stricter than any decimal formatting.
    /// </summary>
    private static string Content(ResultStore s, bool seedsAsSet = false)
    {
        static string Bits(double x) => BitConverter.DoubleToInt64Bits(x).ToString("X16");
        string Details(string json) => seedsAsSet
            ? System.Text.RegularExpressions.Regex.Replace(json, @"""seeds"":\[([^\]]*)\]", g => $"\"seeds\":[{string.Join(",",
                g.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Order())}]")
            : json;
        return string.Join("\n",
            s.AllRuns().Select(r => $"{r.Key} {r.Regime} {r.Seed} {r.SpecJson} {r.Diverged} {r.DivergedAtStep} {r.EpochsJson}")
             .Concat(s.AllMetrics().Select(m => $"{m.RunKey} {m.Metric} {Bits(m.Value)} ({m.Value:R}) {Details(m.DetailsJson)}"))
             .Concat(s.AllSpectra().Select(p => $"{p.RunKey} spectrum {string.Join(",", p.Nodes.SelectMany(v => v).Select(Bits))} / {string.Join(",", p.Weights.SelectMany(v => v).Select(Bits))} {p.DetailsJson}")));
    }

    /// <summary>Stored test probabilities (float32) and labels of every run, bit for bit.</summary>
    private static void AssertSamePredictions(ResultStore expected, ResultStore actual, IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            var e = expected.Predictions(key);
            var a = actual.Predictions(key);
            Assert.That(e, Is.Not.Null, $"run {key} has no predictions in {expected.Path}");
            Assert.That(a, Is.Not.Null, $"run {key} has no predictions in {actual.Path}");
            Assert.That(a!.Value.Classes, Is.EqualTo(e!.Value.Classes), $"classes of run {key}");
            Assert.That(a.Value.Labels, Is.EqualTo(e.Value.Labels), $"labels of run {key}");
            Assert.That(a.Value.Probabilities.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(e.Value.Probabilities.Select(BitConverter.SingleToInt32Bits)),
                $"probabilities of run {key} (float32 bits)");
        }
    }

    [Test]
    public void MergeRefusesConflictingDuplicatesAndWritesNothing()
    {
        using var tiny = new TinySuite(seeds: 2);
        var suite = tiny.Load();
        var plan = suite.Plan();
        using var a = new ResultStore(Path.Combine(tiny.Root, "a.sqlite"));
        using var b = new ResultStore(Path.Combine(tiny.Root, "b.sqlite"));
        suite.Execute(plan, a);
        suite.Execute(plan.Shard(1, 2), b);
        var victim = b.AllMetrics().First(m => m.Metric == "fisher_rao");
        b.SaveMetric(victim with { Value = victim.Value + 1 });
        using var target = new ResultStore(Path.Combine(tiny.Root, "target.sqlite"));
        target.MergeFrom(a);
        int before = target.AllMetrics().Count;
        Assert.That(() => target.MergeFrom(b), Throws.TypeOf<InvalidDataException>().With.Message.Contains(victim.RunKey).And.Message.Contains("fisher_rao"));
        Assert.That(target.AllMetrics(), Has.Count.EqualTo(before));
    }

    [Test]
    public void ACorruptStoreIsAClearErrorNamingTheFile()
    {
        using var tiny = new TinySuite();
        var path = Path.Combine(tiny.Root, "corrupt.sqlite");
        File.WriteAllText(path, "this is not an SQLite database, it is a text file that someone put here by mistake");
        Assert.That(() => new ResultStore(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains(path));
    }
}
