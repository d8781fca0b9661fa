using AngleSharp.Html.Parser;
using NUnit.Framework;
using Reproduce.Claims;
using Reproduce.Claims.Report;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;
using Reproduce.Training;
using Reproduce.Training.Regimes;

namespace Reproduce.Tests.Claims.Runner;

/// <summary>
/// Issue 15.3: the seven 2-D target settings load, a setting's relativeTrainLossTarget is validated with the suite's
/// own errors (file and field), the runner stops a run at that fraction of its targets' variance, and the report draws
/// SAM sharpness against rho for the function targets.
/// </summary>
[TestFixture, Category("Unit")]
public class FunctionTargetSettingTests
{
    private static readonly string[] Targets = ["sphere", "booth", "three-hump-camel", "himmelblau", "rosenbrock", "beale", "rastrigin"];

    [Test]
    public void TheSevenTargetSettingsLoadAlikeButForTheirFunctionAndStopAtOnePercentAtNightly()
    {
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        var sphere = settings["fn-sphere"];
        foreach (var target in Targets)
        {
            var setting = settings[$"fn-{target}"];
            foreach (var profile in new[] { "smoke", "default", "nightly" })
            {
                var p = setting.For(profile);
                Assert.That(p.Function, Is.EqualTo(target), $"{target} {profile}");
                Assert.That(p with { Function = "sphere" }, Is.EqualTo(sphere.For(profile)).Using<SettingProfile>((a, b) => new RunSpec("x", profile, a, RegimeRegistry.Get("Base"), 0).CanonicalJson == new RunSpec("x", profile, b, RegimeRegistry.Get("Base"), 0).CanonicalJson),
                    $"{target} {profile}: the sphere's model, optimiser and budget");
            }
            Assert.That(setting.For("nightly").RelativeTrainLossTarget, Is.EqualTo(0.01), target);
            Assert.That(setting.For("smoke").RelativeTrainLossTarget, Is.Null, $"{target}: smoke trains the sphere's fixed budget (its baselines must not move)");
        }
        // Keys of the recorded smoke store's sphere and Rastrigin runs are unchanged (the relative target is left out of
        // the canonical JSON when null).
        Assert.That(new RunSpec("fn-sphere", "smoke", sphere.For("smoke"), RegimeRegistry.Get("Base"), 0).CanonicalJson, Does.Not.Contain("relativeTrainLossTarget"));
        Assert.That(new RunSpec("fn-sphere", "nightly", sphere.For("nightly"), RegimeRegistry.Get("Base"), 0).CanonicalJson, Does.Contain("\"relativeTrainLossTarget\":0.01"));
    }

    [TestCase("\"relativeTrainLossTarget\": 0.01, \"trainLossTarget\": 0.5", "functions2d", "not both")]
    [TestCase("\"relativeTrainLossTarget\": 0.01", "circles", "only to regression data")]
    [TestCase("\"relativeTrainLossTarget\": 1.5", "functions2d", "outside [1E-12, 1]")]
    [TestCase("\"relativeTrainLossTarget\": 0", "functions2d", "outside [1E-12, 1]")]
    public void ABadRelativeTrainLossTargetIsRefusedNamingTheFileAndField(string fields, string data, string message)
    {
        var folder = Repository.TempFolder("relative-target");
        try
        {
            string path = Path.Combine(folder, "bad-target.json");
            string model = data == "circles" ? "\"circlesFactor\": 0.5, \"model\": { \"kind\": \"mlp\", \"inputShape\": [2], \"classes\": 2, \"widths\": [2, 8, 2] }"
                : "\"function\": \"booth\", \"model\": { \"kind\": \"mlp\", \"inputShape\": [2], \"classes\": 1, \"widths\": [2, 8, 1] }";
            File.WriteAllText(path, $$"""
                { "name": "bad-target", "regimes": ["Base"], "profiles": { "smoke": {
                  "data": "{{data}}", {{model}},
                  "trainSize": 40, "testSize": 40, "measureSize": 40, "epochs": 2, "batchSize": 40, "learningRate": 0.01, "robustnessSize": 40,
                  {{fields}}, "seeds": 2 } } }
                """);
            Assert.That(() => SettingLoader.Load(path), Throws.InstanceOf<SpecException>()
                .With.Message.Contains("bad-target.json").And.Message.Contains("relativeTrainLossTarget").And.Message.Contains(message));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [TestCase("trainLossTarget", "0.5", "SWA")]
    [TestCase("relativeTrainLossTarget", "0.01", "SWA")]
    public void EitherTargetBesideAnSwaRegimeIsRefusedNamingItsField(string field, string value, string regime)
    {
        // One rule for both stops: a target is checked on the iterate's loss, which bounds no SWA average.
        var folder = Repository.TempFolder("target-averaging");
        try
        {
            string path = Path.Combine(folder, "target-averaging.json");
            File.WriteAllText(path, $$"""
                { "name": "target-averaging", "regimes": ["Base", "{{regime}}"], "profiles": { "smoke": {
                  "data": "functions2d", "function": "booth", "model": { "kind": "mlp", "inputShape": [2], "classes": 1, "widths": [2, 8, 1] },
                  "trainSize": 40, "testSize": 40, "measureSize": 40, "epochs": 2, "batchSize": 40, "learningRate": 0.01, "robustnessSize": 40,
                  "{{field}}": {{value}}, "seeds": 2 } } }
                """);
            Assert.That(() => SettingLoader.Load(path), Throws.InstanceOf<SpecException>()
                .With.Message.Contains("target-averaging.json").And.Message.Contains($"smoke.{field}").And.Message.Contains("cannot list an SWA regime"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void ATargetBesideSwadLoadsAndStopsOnlyTheOtherRegimes()
    {
        // A matched-fit control for SWAD: the target stops Base at SWAD's fit, SWAD keeps its own valley stop.
        var folder = Repository.TempFolder("target-swad");
        try
        {
            string path = Path.Combine(folder, "target-swad.json");
            File.WriteAllText(path, """
                { "name": "target-swad", "regimes": ["Base", "SWAD"], "profiles": { "smoke": {
                  "data": "fashion-mnist", "model": { "kind": "mlp", "inputShape": [784], "classes": 10, "widths": [784, 8, 10] },
                  "trainSize": 40, "testSize": 40, "measureSize": 40, "epochs": 2, "batchSize": 40, "learningRate": 0.01, "robustnessSize": 40,
                  "trainLossTarget": 0.1, "seeds": 2 } } }
                """);
            var setting = SettingLoader.Load(path);
            Assert.That(setting.Profiles["smoke"].TrainLossTarget, Is.EqualTo(0.1));
            var recipe = new Reproduce.Training.TrainerOptions { Epochs = 2, BatchSize = 40, LearningRate = 0.01, TrainLossTarget = 0.1 };
            Assert.That(recipe.With(RegimeRegistry.Get("Base")).TrainLossTarget, Is.EqualTo(0.1));
            Assert.That(recipe.With(RegimeRegistry.Get("SWAD")).TrainLossTarget, Is.Null);
            Assert.That(() => recipe.With(RegimeRegistry.Get("SWAD")).Validate(), Throws.Nothing);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test, Category("RealData"), NonParallelizable]
    public void ARunStopsAtItsRelativeTargetAndTheReportDrawsSamSharpnessAgainstRho()
    {
        var root = Repository.TempFolder("function-targets");
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "claims", "settings"));
            foreach (var target in new[] { "sphere", "booth" })
                File.WriteAllText(Path.Combine(root, "claims", "settings", $"fn-{target}.json"), $$"""
                    { "name": "fn-{{target}}", "regimes": ["Base"], "profiles": { "smoke": {
                      "data": "functions2d", "function": "{{target}}", "model": { "kind": "mlp", "inputShape": [2], "classes": 1, "widths": [2, 16, 16, 1] },
                      "trainSize": 100, "testSize": 100, "measureSize": 100, "epochs": 2000, "relativeTrainLossTarget": 0.3, "batchSize": 100,
                      "learningRate": 0.01, "optimiser": "adam", "seeds": 2, "samDraws": 5, "hessianProbes": 2, "robustnessSize": 100 } } }
                    """);
            foreach (var (id, metric) in new[] { ("t-rho-0p005", "sam_sharpness"), ("t-rho-0p5", "sam_sharpness_rho_0p5") })
                File.WriteAllText(Path.Combine(root, "claims", $"{id}.json"), $$"""
                    { "id": "{{id}}", "statement": "Booth is sharper", "source": { "paper": "test", "location": "here" }, "kind": "condition",
                      "settings": ["fn-sphere", "fn-booth"], "reference": "Base", "metrics": ["{{metric}}"], "direction": "higher",
                      "test": "wilcoxon-signed-rank", "family": "function-targets", "support": "weak",
                      "premises": [ { "metric": "train_loss_relative", "atMost": 0.3, "reason": "equally converged" } ] }
                    """);
            var suite = ClaimSuite.Load(ReproduceOptions.Load(root, new Dictionary<string, string?> { ["Profile"] = "smoke", ["OutputFolder"] = "results", ["Checkpoints"] = "false" }));
            using var store = suite.OpenStore();
            suite.Execute(suite.Plan(), store);
            var results = suite.Results(store);
            foreach (var run in suite.Plan().Runs)
            {
                var stored = results.Runs(run.Setting, "Base").Single(r => r.Seed == run.Seed);
                var epochs = System.Text.Json.JsonSerializer.Deserialize<List<EpochLog>>(stored.EpochsJson, RunExecutor.EpochJson)!;
                var metric = results.MetricsOf(stored.Key)["train_loss_relative"];
                double variance = System.Text.Json.JsonDocument.Parse(metric.DetailsJson).RootElement.GetProperty("targetVariance").GetDouble();
                // Stopped at the first epoch whose clean loss is at most 0.3 of the targets' variance, before the cap; the
                // metric measures the same quantity after training (up to float32 summation order).
                Assert.That(epochs, Has.Count.InRange(2, 1999), run.Describe());
                Assert.That(epochs[^1].CleanLoss!.Value / variance, Is.LessThanOrEqualTo(0.3), run.Describe());
                Assert.That(epochs[^2].CleanLoss!.Value / variance, Is.GreaterThan(0.3), $"{run.Describe()}: not stopped earlier");
                Assert.That(metric.Value, Is.EqualTo(epochs[^1].CleanLoss!.Value / variance).Within(1e-5), run.Describe());
            }
            var outcomes = suite.Evaluate(store);
            var html = new HtmlReport(suite, results).Render(outcomes, new Dictionary<string, string>(), Provenance.Capture(root, "cpu", 2, "smoke"));
            var document = new HtmlParser().ParseDocument(html);
            var figure = document.QuerySelector("figure[data-figure='sam-sharpness-vs-rho']");
            Assert.That(figure, Is.Not.Null, "the SAM sharpness against rho figure");
            var src = figure!.QuerySelector("img")!.GetAttribute("src")!;
            Assert.That(Convert.FromBase64String(src["data:image/png;base64,".Length..]).Length, Is.GreaterThan(2000));
            var rows = document.QuerySelectorAll("table#sam-sharpness-vs-rho tr").Skip(1).Select(r => r.TextContent).ToList();
            Assert.That(rows, Has.Count.EqualTo(2));
            Assert.That(rows[0], Does.Contain("booth (fn-booth)"));
            Assert.That(rows[1], Does.Contain("sphere (fn-sphere)"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }
}
