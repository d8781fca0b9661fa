using NUnit.Framework;
using Reproduce.Claims;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Runner;

/// <summary>
/// Verdict maps (claims/sweeps/): a sweep's cells are ordinary claims on derived settings. What must hold: a cell that
/// replaces nothing is the catalogue setting itself (same run keys, so its runs are shared); each axis changes exactly
/// its field (trainSize also caps measureSize; widthFactor the hidden widths only); a sweep's cells form a family of
/// their own, so adding a map moves no catalogue verdict; a bad sweep is the loader's error naming the file and field;
/// the report draws one heatmap cell per grid point.
/// </summary>
[TestFixture, Category("Unit")]
public class SweepTests
{
    private static void WriteSweep(string root, string json, string id = "v1")
    {
        Directory.CreateDirectory(Path.Combine(root, "claims", "sweeps"));
        File.WriteAllText(Path.Combine(root, "claims", "sweeps", $"{id}.json"), json);
    }

    private const string TwoByTwo = """
        { "id": "v1", "description": "test map", "claims": ["t1-wd"], "axes": { "epochs": [2, 3], "trainSize": [120, 60] } }
        """;

    [Test]
    public void EveryRepositorySettingSurvivesTheRoundTripOfAnIdentityCellWithItsRunKeys()
    {
        // The property that makes the catalogue's runs reusable by a map: Derive(setting, its own value) == setting.
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        int checkedProfiles = 0;
        foreach (var setting in settings.Values)
            foreach (var (profile, original) in setting.Profiles)
            {
                var claim = new ClaimSpec
                {
                    Id = "x", File = "x.json", Statement = "", Source = new ClaimSource("", "", null), Kind = ClaimKinds.Get("comparison"), Settings = [setting.Name],
                    Reference = setting.Regimes[0], Metrics = ["train_loss"], Direction = "higher", Test = "wilcoxon-signed-rank", Family = "controls", Support = "none",
                };
                // Every axis at its identity at once: the setting's own epochs, train size, batch, learning rate, width x 1.
                var sweep = new SweepSpec { Id = "identity", File = "identity.json", Claims = ["x"], Axes = [new SweepAxis("epochs", [original.Epochs]), new SweepAxis("trainSize", [original.TrainSize])] };
                var widths = new SweepSpec { Id = "identity", File = "identity.json", Claims = ["x"], Axes = [new SweepAxis("widthFactor", [1]), new SweepAxis("learningRate", [original.LearningRate])] };
                var batch = new SweepSpec { Id = "identity", File = "identity.json", Claims = ["x"], Axes = [new SweepAxis("batchSize", [original.BatchSize])] };
                foreach (var other in new[] { widths, batch })
                {
                    var otherCopy = SweepLoader.Expand(other, [claim], settings, profile).Settings.Values.Single().For(profile);
                    Assert.That(new RunSpec("d", profile, otherCopy, Reproduce.Training.Regimes.RegimeRegistry.Get(setting.Regimes[0]), 3).Key,
                        Is.EqualTo(new RunSpec(setting.Name, profile, original, Reproduce.Training.Regimes.RegimeRegistry.Get(setting.Regimes[0]), 3).Key), $"{setting.Name} at {profile}: {other.Axes[0].Field}");
                }
                var (derived, cells) = SweepLoader.Expand(sweep, [claim], settings, profile);
                var copy = derived.Values.Single().For(profile);
                var regime = Reproduce.Training.Regimes.RegimeRegistry.Get(setting.Regimes[0]);
                Assert.That(new RunSpec("d", profile, copy, regime, 3).Key, Is.EqualTo(new RunSpec(setting.Name, profile, original, regime, 3).Key),
                    $"{setting.Name} at {profile}: {new RunSpec("d", profile, copy, regime, 3).CanonicalJson} vs {new RunSpec(setting.Name, profile, original, regime, 3).CanonicalJson}");
                Assert.That(cells.Single().Family, Is.EqualTo("sweep:identity"));
                checkedProfiles++;
            }
        Assert.That(checkedProfiles, Is.GreaterThan(40));
    }

    [Test]
    public void EachAxisChangesItsFieldAndNothingElse()
    {
        using var tiny = new TinySuite();
        WriteSweep(tiny.Root, """
            { "id": "v1", "claims": ["t1-wd"], "axes": { "trainSize": [40], "widthFactor": [2.5] } }
            """);
        var suite = tiny.Load();
        var original = suite.Settings["tiny"].For("smoke");
        var cell = suite.Settings["tiny@trainSize=40,widthFactor=2.5"].For("smoke");
        Assert.That(cell.TrainSize, Is.EqualTo(40));
        Assert.That(cell.MeasureSize, Is.EqualTo(40), "measureSize 60 capped at the new train size");
        Assert.That(cell.Model.Widths, Is.EqualTo(new[] { 784, 40, 10 }), "hidden 16 x 2.5; input and output widths stay");
        Assert.That(cell with { TrainSize = original.TrainSize, MeasureSize = original.MeasureSize, Model = original.Model }, Is.EqualTo(original));

        WriteSweep(tiny.Root, """
            { "id": "v1", "claims": ["t1-wd"], "axes": { "learningRate": [0.5], "batchSize": [7] } }
            """);
        var other = tiny.Load().Settings["tiny@learningRate=0.5,batchSize=7"].For("smoke");
        Assert.That(other with { LearningRate = original.LearningRate, BatchSize = original.BatchSize }, Is.EqualTo(original));
        Assert.That((other.LearningRate, other.BatchSize), Is.EqualTo((0.5, 7)));
    }

    [Test]
    public void CellsArePlannedOnceSharingTheCatalogueRunsAndFormAFamilyOfTheirOwn()
    {
        using var tiny = new TinySuite();
        var before = tiny.Load();
        var catalogueKeys = before.Plan().Runs.Select(r => r.Key).ToHashSet();
        WriteSweep(tiny.Root, TwoByTwo);
        var suite = tiny.Load();
        var cells = suite.AllClaims.Where(c => c.Cell is not null).ToList();
        Assert.That(cells.Select(c => c.Id), Is.EqualTo(new[]
        {
            "v1.t1-wd@epochs=2,trainSize=120", "v1.t1-wd@epochs=2,trainSize=60", "v1.t1-wd@epochs=3,trainSize=120", "v1.t1-wd@epochs=3,trainSize=60",
        }), "row-major: the first axis slowest");
        Assert.That(cells.Select(c => c.Family).Distinct(), Is.EqualTo(new[] { "sweep:v1" }));
        // The cell at the setting's own values (epochs 2, 120 images) trains nothing new: 3 other cells x (Base, WD) x 3 seeds.
        var plan = suite.Plan();
        var identity = suite.Claims.Single(c => c.Id == "v1.t1-wd@epochs=2,trainSize=120");
        var identityKeys = plan.Runs.Where(r => r.Setting == identity.Settings[0]).Select(r => r.Key).ToList();
        Assert.That(plan.Runs.Count, Is.EqualTo(catalogueKeys.Count + 3 * 2 * 3));
        Assert.That(identityKeys, Is.Empty, "its runs are the catalogue's, planned once under the catalogue setting's name");
        var alone = tiny.Load(filter: "v1.").Plan().Runs.Where(r => r.Setting.StartsWith("tiny@epochs=2,trainSize=120", StringComparison.Ordinal)).Select(r => r.Key).ToList();
        Assert.That(alone, Has.Count.EqualTo(2 * 3));
        Assert.That(alone, Is.SubsetOf(catalogueKeys), "selected alone, the identity cell plans exactly the catalogue's keys");
        // A filter naming a claim selects the catalogue claim, not the cells that sweep it; the sweep's id selects its cells.
        Assert.That(tiny.Load(filter: "t1-wd").Claims.Select(c => c.Id), Is.EqualTo(new[] { "t1-wd" }));
        Assert.That(tiny.Load(filter: "v1").Claims.Select(c => c.Id), Is.EqualTo(cells.Select(c => c.Id)));

        // Train and evaluate: the catalogue's verdicts and adjusted p's are those of the suite without the map.
        string output = Path.Combine(tiny.Root, "out");
        var withMap = tiny.Load(output: output);
        using (var store = withMap.OpenStore())
        {
            var summary = withMap.Execute(withMap.Plan(), store);
            Assert.That(summary.Failed, Is.Zero, string.Join("; ", summary.Failures));
            var outcomes = withMap.Evaluate(store).ToDictionary(o => o.ClaimId);
            File.Delete(Path.Combine(tiny.Root, "claims", "sweeps", "v1.json"));
            var plain = tiny.Load(output: output).Evaluate(store).ToDictionary(o => o.ClaimId);
            foreach (var id in new[] { "t1-wd", "t2-sam" })
            {
                Assert.That(outcomes[id].Verdict, Is.EqualTo(plain[id].Verdict), id);
                Assert.That(outcomes[id].Comparisons.Select(c => c.PAdjusted), Is.EqualTo(plain[id].Comparisons.Select(c => c.PAdjusted)), $"{id}: a map joins none of the catalogue's families");
            }
            var cellOutcomes = cells.Select(c => outcomes[c.Id]).ToList();
            Assert.That(cellOutcomes.SelectMany(o => o.Comparisons).Select(c => c.Family).Distinct(), Is.EqualTo(new[] { "sweep:v1" }));
            Assert.That(cellOutcomes.All(o => o.Comparisons.Single().Seeds.Count == 3), Is.True);
            // The identity cell tests the catalogue claim on the same values (its adjusted p differs: another family).
            var cat = outcomes["t1-wd"].Comparisons.Single();
            var id0 = outcomes["v1.t1-wd@epochs=2,trainSize=120"].Comparisons.Single();
            Assert.That((id0.RegimeValues, id0.ReferenceValues, id0.P), Is.EqualTo((cat.RegimeValues, cat.ReferenceValues, cat.P)));
        }
    }

    [Test]
    public void TheReportDrawsOneHeatmapCellPerGridPoint()
    {
        using var tiny = new TinySuite(seeds: 2);
        WriteSweep(tiny.Root, TwoByTwo);
        var suite = tiny.Load(output: Path.Combine(tiny.Root, "out"));
        using var store = suite.OpenStore();
        Assert.That(suite.Execute(suite.Plan(), store).Failed, Is.Zero);
        var result = suite.VerifyAndReport(store);
        string html = File.ReadAllText(result.ReportPath), markdown = File.ReadAllText(result.MarkdownPath);
        Assert.That(html, Does.Contain("data-map=\"v1.t1-wd: tiny: WD vs Base, fisher_rao (higher expected)\""));
        foreach (var cell in new[] { "2,120", "2,60", "3,120", "3,60" })
            Assert.That(html, Does.Contain($"data-cell=\"{cell}\""), cell);
        Assert.That(System.Text.RegularExpressions.Regex.Matches(html, "data-cell=").Count, Is.EqualTo(4));
        Assert.That(html, Does.Contain("style=\"outline:2px solid #333\""), "the catalogue setting's cell is outlined");
        Assert.That(html, Does.Not.Contain("<tr data-claim=\"v1."), "cells are map cells, not verdict-table rows");
        Assert.That(markdown, Does.Contain("## Verdict maps").And.Contain("| epochs \\ trainSize | 120 | 60 |"));
        // Two seeds cannot reach significance: every cell is inconclusive or premise unmet, never a verdict.
        var cellVerdicts = result.Claims.Where(c => c.ClaimId.StartsWith("v1.", StringComparison.Ordinal)).Select(c => c.Verdict).ToList();
        Assert.That(cellVerdicts, Has.Count.EqualTo(4));
        Assert.That(cellVerdicts, Is.All.AnyOf(Verdicts.Inconclusive, Verdicts.PremiseUnmet));
    }

    private static IEnumerable<TestCaseData> BadSweeps()
    {
        TestCaseData Case(string name, string json, string expected) => new TestCaseData(json, expected).SetName($"{{m}}({name})");
        yield return Case("unknown axis", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "momentum": [0.5] } }""", "v1.json: $.axes.momentum: unknown axis; valid: epochs, trainSize, batchSize, learningRate, widthFactor");
        yield return Case("fractional count", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "epochs": [2.5] } }""", "v1.json: $.axes.epochs[0]: 2.5 is not a count");
        yield return Case("repeated value", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "epochs": [2, 2] } }""", "v1.json: $.axes.epochs[1]: 2 is listed twice");
        yield return Case("three axes", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "epochs": [2], "trainSize": [60], "batchSize": [10] } }""", "v1.json: $.axes: names one or two axes");
        yield return Case("unknown claim", """{ "id": "v1", "claims": ["t9"], "axes": { "epochs": [2] } }""", "v1.json: $.claims[0]: unknown value 't9'; valid: t1-wd, t2-sam");
        yield return Case("id not the file name", """{ "id": "v2", "claims": ["t1-wd"], "axes": { "epochs": [2] } }""", "v1.json: $.id: 'v2' must equal the file name ('v1')");
        yield return Case("unknown field", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "epochs": [2] }, "seeds": 3 }""", "v1.json: $.seeds: unknown field");
        yield return Case("cell breaks a setting rule", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "learningRate": [1000] } }""",
            "v1.json: $.axes<cell learningRate=1000; setting tiny; profile smoke>.learningRate: 1000 is outside [1E-12, 100]");
        yield return Case("a profile none of its claims run at", """{ "id": "v1", "claims": ["t1-wd"], "axes": { "epochs": [2] }, "profiles": ["nightly"] }""", "v1.json: $.profiles[0]: unknown value 'nightly'; valid: smoke");
        yield return Case("setting no claim trains", """{ "id": "v1", "claims": ["t1-wd"], "settings": ["cnn"], "axes": { "epochs": [2] } }""", "v1.json: $.settings[0]: unknown value 'cnn'; valid: tiny");
    }

    [TestCaseSource(nameof(BadSweeps))]
    public void ABadSweepIsTheLoadersErrorNamingFileAndField(string json, string expected)
    {
        using var tiny = new TinySuite();
        WriteSweep(tiny.Root, json);
        Assert.That(() => tiny.Load(), Throws.InstanceOf<SpecException>().With.Message.Contains(expected));
    }
}

[TestFixture, Category("Unit")]
public class SweepSchemaTests
{
    [Test]
    public void TheSchemaNamesExactlyTheLoadersAxes()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Repository.Path("claims", "sweeps", "sweep.schema.json")));
        var axes = doc.RootElement.GetProperty("properties").GetProperty("axes").GetProperty("properties").EnumerateObject().Select(p => p.Name);
        Assert.That(axes, Is.EqualTo(SweepAxes.Names));
    }
}
