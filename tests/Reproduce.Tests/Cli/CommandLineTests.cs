using System.Diagnostics;
using System.Text.Json;
using NUnit.Framework;
using Reproduce.Claims.Metrics;
using Reproduce.Tests.Support;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Models;
using Reproduce.Training.Optimisers;
using Reproduce.Training.Regimes;

namespace Reproduce.Tests.Cli;

/// <summary>
/// The command line's contract, through the built executable (the test project does not reference the CLI, so
/// nothing depends on it): exit code 2 with a message for usage and input errors, JSON on stdout for machines.
/// </summary>
[TestFixture, Category("Unit"), NonParallelizable]
public class CommandLineTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliProcess.Run(args);

    [Test]
    public void UsageAndInputErrorsExitWithTwoAndAMessage()
    {
        var unknownProfile = Run("run", "--profile", "huge");
        Assert.That(unknownProfile.Code, Is.EqualTo(2));
        Assert.That(unknownProfile.Err, Does.Contain("Profile: unknown profile 'huge'"));
        var unknownOption = Run("run", "--bogus");
        Assert.That(unknownOption.Code, Is.EqualTo(2));
        var missingCheckpoint = Run("measure", "/nonexistent/model.safetensors");
        Assert.That(missingCheckpoint.Code, Is.EqualTo(2));
        Assert.That(missingCheckpoint.Err, Does.Contain("/nonexistent/model.safetensors"));
        var noFilterMatch = Run("list", "--filter", "no-such-claim");
        Assert.That(noFilterMatch.Code, Is.EqualTo(2));
        Assert.That(noFilterMatch.Err, Does.Contain("matches no claim"));
    }

    [Test]
    public void ASweepFromTheCommandLineTrainsItsCellsPrintsTheMapAndKeepsNoBadSpec()
    {
        var folder = Repository.TempFolder("sweep-cli");
        try
        {
            var bad = Run("sweep", "c01-wd-fisher-rao", "--axis", "momentum=0.5", "--profile", "smoke", "--output", folder);
            Assert.That(bad.Code, Is.EqualTo(2), bad.Err);
            Assert.That(bad.Err, Does.Contain("cli-c01-wd-fisher-rao.json: $.axes.momentum: unknown axis"));
            Assert.That(Directory.Exists(Path.Combine(folder, "sweeps")) ? Directory.GetFiles(Path.Combine(folder, "sweeps")) : [], Is.Empty, "a rejected sweep is not kept");
            var badName = Run("sweep", "c01-wd-fisher-rao", "--axis", "epochs=2", "--name", "../x", "--profile", "smoke", "--output", folder);
            Assert.That(badName.Code, Is.EqualTo(2));
            Assert.That(badName.Err, Does.Contain("--name: '../x' must be lower-case"));
            var filtered = Run("sweep", "c01-wd-fisher-rao", "--axis", "epochs=2", "--filter", "c01", "--profile", "smoke", "--output", folder);
            Assert.That(filtered.Code, Is.EqualTo(2));
            Assert.That(filtered.Err, Does.Contain("--filter does not apply to sweep"));
            var infinite = Run("sweep", "c01-wd-fisher-rao", "--axis", "learningRate=Infinity", "--profile", "smoke", "--output", folder);
            Assert.That((infinite.Code, infinite.Err.Trim()), Is.EqualTo((2, "error: --axis learningRate: 'Infinity' is not a number.")));
            var notANumber = Run("sweep", "c01-wd-fisher-rao", "--axis", "epochs=2,x", "--profile", "smoke", "--output", folder);
            Assert.That((notANumber.Code, notANumber.Err.Trim()), Is.EqualTo((2, "error: --axis epochs: 'x' is not a number.")));

            var ok = Run("sweep", "c01-wd-fisher-rao", "--axis", "epochs=1,2", "--setting", "mlp", "--profile", "smoke", "--output", folder);
            Assert.That(ok.Code, Is.EqualTo(0), ok.Err);
            Assert.That(ok.Out, Does.Contain("| epochs | verdict |").And.Contain("| 1 | ").And.Contain("| 2 | "));
            Assert.That(File.Exists(Path.Combine(folder, "sweeps", "cli-c01-wd-fisher-rao.json")), Is.True);
            // The folder's report re-renders the map from the stored runs (nothing trained, no baseline asked for).
            var report = Run("report", "--profile", "smoke", "--output", folder, "--filter", "cli-c01");
            Assert.That(report.Code, Is.EqualTo(0), report.Err);
            Assert.That(File.ReadAllText(Path.Combine(folder, "report.md")), Does.Contain("**cli-c01-wd-fisher-rao: c01-wd-fisher-rao**"));
            Assert.That(Directory.GetFiles(Repository.Path("baselines", "smoke"), "cli-*"), Is.Empty, "a command-line sweep writes no received baselines");
            // `list sweeps` on the folder names it (local, 2 cells); `list` marks its cells with their sweep.
            var sweeps = Run("list", "sweeps", "--json", "--profile", "smoke", "--output", folder);
            Assert.That(sweeps.Code, Is.EqualTo(0), sweeps.Err);
            var local = JsonDocument.Parse(sweeps.Out).RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == "cli-c01-wd-fisher-rao");
            Assert.That((local.GetProperty("cells").GetInt32(), local.GetProperty("local").GetBoolean()), Is.EqualTo((2, true)));
            var listed = Run("list", "--json", "--profile", "smoke", "--output", folder, "--filter", "cli-c01");
            Assert.That(JsonDocument.Parse(listed.Out).RootElement.EnumerateArray().Select(e => e.GetProperty("sweep").GetString()), Is.EqualTo(new[] { "cli-c01-wd-fisher-rao", "cli-c01-wd-fisher-rao" }));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void ListAndMeasureSpeakJson()
    {
        var list = Run("list", "--json", "--profile", "smoke");
        Assert.That(list.Code, Is.EqualTo(0), list.Err);
        var claims = JsonDocument.Parse(list.Out).RootElement;
        // Every claim file that runs at smoke: those without a "profiles" list, or whose list names smoke.
        int atSmoke = Directory.GetFiles(Repository.Path("claims"), "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal))
            .Count(f => !JsonDocument.Parse(File.ReadAllText(f)).RootElement.TryGetProperty("profiles", out var profiles)
                || profiles.EnumerateArray().Any(p => p.GetString() == "smoke"));
        Assert.That(claims.GetArrayLength(), Is.EqualTo(atSmoke));

        var folder = Repository.TempFolder("measure");
        try
        {
            var path = Path.Combine(folder, "m.safetensors");
            using (var model = ModelSpec.ForMlp([784, 16, 10]).Build(3))
                Checkpoint.Save(path, model, new Dictionary<string, string> { ["regime"] = "Base" });
            var measured = Run("measure", path, "--train-size", "200", "--test-size", "200", "--measure-size", "100", "--metric", "fisher_rao", "--metric", "test_accuracy", "--threads", "2", "--workers", "2");
            Assert.That(measured.Code, Is.EqualTo(0), measured.Err);
            var output = JsonDocument.Parse(measured.Out).RootElement;
            // 2 threads, 2 workers: a run measures with 1 thread per worker, and so does `measure`.
            Assert.That(output.GetProperty("threads").GetInt32(), Is.EqualTo(1), "measure uses a run's threads per worker");
            var metrics = output.GetProperty("metrics");
            Assert.That(metrics.GetProperty("fisher_rao").GetProperty("value").GetDouble(), Is.GreaterThan(0));
            Assert.That(metrics.GetProperty("test_accuracy").GetProperty("value").GetDouble(), Is.InRange(0.0, 1.0));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void ListingsAreTheRegistries()
    {
        var metrics = Run("list", "metrics", "--json");
        Assert.That(metrics.Code, Is.EqualTo(0), metrics.Err);
        var rows = JsonDocument.Parse(metrics.Out).RootElement.EnumerateArray().ToList();
        Assert.That(rows.Select(r => r.GetProperty("name").GetString()), Is.EqualTo(MetricRegistry.Names));
        foreach (var (row, metric) in rows.Zip(MetricRegistry.All))
        {
            Assert.That(row.GetProperty("family").GetString(), Is.EqualTo(metric.Family.ToString().ToLowerInvariant()), metric.Name);
            Assert.That(row.GetProperty("kind").GetString(), Is.EqualTo(metric.PerGroup ? "per-group" : "per-run"), metric.Name);
            Assert.That(row.GetProperty("better").ValueKind == JsonValueKind.Null ? null : row.GetProperty("better").GetString(), Is.EqualTo(metric.Better), metric.Name);
            Assert.That(row.GetProperty("parameters").EnumerateObject().Select(p => (p.Name, p.Value.GetString())), Is.EqualTo(metric.Parameters.Select(p => (p.Name, (string?)p.FormattedValue))), metric.Name);
            Assert.That(row.GetProperty("description").GetString(), Is.EqualTo(metric.Description), metric.Name);
        }
        var text = Run("list", "metrics");
        Assert.That(text.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]), Is.EqualTo(MetricRegistry.Names));
        var regimes = Run("list", "regimes", "--json");
        Assert.That(JsonDocument.Parse(regimes.Out).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()), Is.EqualTo(RegimeRegistry.Names));
        var optimisers = Run("list", "optimisers", "--json");
        Assert.That(JsonDocument.Parse(optimisers.Out).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()), Is.EqualTo(OptimiserRegistry.Names));
        Assert.That(Run("list", "losses").Code, Is.EqualTo(2));
    }

    [Test]
    public void SchemaPrintsTheCheckedInSchema()
    {
        var schema = Run("schema");
        Assert.That(schema.Code, Is.EqualTo(0), schema.Err);
        Assert.That(schema.Out, Is.EqualTo(File.ReadAllText(Repository.Path("claims", "claim.schema.json"))));
    }
}
