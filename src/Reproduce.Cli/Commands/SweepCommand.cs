using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Claims;
using Reproduce.Claims.Report;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Checkpoints;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce sweep &lt;claim&gt; --axis epochs=12,25,50 --axis trainSize=250,500,1000: a verdict map of any claim, started
/// from the command line. The sweep is written as &lt;output&gt;/sweeps/&lt;name&gt;.json (the same format as
/// claims/sweeps/, so `run` and `report` on that folder resume and re-render it), then its cells are planned, trained
/// (only what the store lacks), evaluated and reported; the map is printed. Its cells have no reviewed baselines, so
/// the exit code reports failed runs only (0 or 1; 2 for bad input). The folder's report.html and report.md are then
/// the sweep's (its cells only): `reproduce report` on the folder renders the whole catalogue again, maps included.
/// </summary>
internal static class SweepCommand
{
    private static readonly Argument<string> Claim = new("claim") { Description = "The claim to sweep (an id from `reproduce list`)." };
    private static readonly Option<string[]> Axis = new("--axis") { Description = $"field=v1,v2,...: one or two axes ({string.Join(", ", SweepAxes.Names)}).", AllowMultipleArgumentsPerToken = false, Required = true };
    private static readonly Option<string[]> Setting = new("--setting") { Description = "Sweep only these of the claim's settings (default: all)." };
    private static readonly Option<string?> Name = new("--name") { Description = "The sweep's id (default: cli-<claim>)." };

    public static Command Create()
    {
        var command = new Command("sweep", "Sweep a claim over budget axes (a verdict map): train what is missing, evaluate every cell, print the map and write the report.") { Claim, Axis, Setting, Name };
        CommonOptions.AddTo(command);
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        var options = CommonOptions.Load(parse);
        string claim = parse.GetValue(Claim)!;
        string id = parse.GetValue(Name) ?? $"cli-{claim}";
        // The id names a file in <output>/sweeps/ and prefixes every cell's id: the claims' own rule, checked before any path is built.
        if (!ClaimSpec.IsValidId(id))
            throw new ArgumentException($"--name: '{id}' must be lower-case letters, digits and dashes (it names <output>/sweeps/{id}.json and prefixes each cell's id).");
        // The sweep selects its own cells; a --filter would select something else.
        if (parse.GetValue(CommonOptions.Filter) is not null)
            throw new ArgumentException("--filter does not apply to sweep: it runs exactly the sweep's cells (use `reproduce run --filter <sweep-id>` on the folder afterwards).");
        var axes = new JsonObject();
        foreach (var text in parse.GetValue(Axis) ?? [])
        {
            int eq = text.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--axis: expected field=v1,v2,... (fields: {string.Join(", ", SweepAxes.Names)}); got '{text}'.");
            string field = text[..eq];
            if (axes.ContainsKey(field)) throw new ArgumentException($"--axis: '{field}' is given twice.");
            var values = new JsonArray();
            foreach (var v in text[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries))
            {
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || !double.IsFinite(x)) throw new ArgumentException($"--axis {field}: '{v}' is not a number.");
                values.Add(x == Math.Floor(x) && Math.Abs(x) < int.MaxValue ? JsonValue.Create((int)x) : JsonValue.Create(x));
            }
            axes[field] = values;
        }
        var spec = new JsonObject
        {
            ["id"] = id,
            ["description"] = $"Started from the command line: reproduce sweep {claim} {string.Join(" ", (parse.GetValue(Axis) ?? []).Select(a => $"--axis {a}"))}.",
            ["claims"] = new JsonArray(JsonValue.Create(claim)),
            ["axes"] = axes,
            ["profiles"] = new JsonArray(JsonValue.Create(options.Profile)),
        };
        if (parse.GetValue(Setting) is { Length: > 0 } settings) spec["settings"] = new JsonArray([.. settings.Select(s => (JsonNode)JsonValue.Create(s)!)]);
        string json = spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine;

        using var folderLock = OutputFolderLock.Acquire(options.Resolve(options.OutputFolder));
        string folder = ClaimSuite.LocalSweepsFolder(options), file = Path.Combine(folder, $"{id}.json");
        bool created = !File.Exists(file);
        if (!created && File.ReadAllText(file) != json)
            throw new ArgumentException($"{file} already holds another sweep named '{id}': give this one another --name, or delete that file.");
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(file, json);
        ClaimSuite suite;
        try
        {
            options.Filter = $"{id}.";
            suite = ClaimSuite.Load(options);
        }
        catch (Exception e) when (e is SpecException or ArgumentException)
        {
            // Bad axes or an unknown claim: the sweep is not kept (the error names the file and field it would have had).
            if (created) File.Delete(file);
            throw;
        }
        var plan = suite.Plan();
        Console.Error.WriteLine($"Sweep {id} at profile {options.Profile}: {suite.Claims.Count} cells, {plan.Runs.Count} runs; store {options.StorePath}.");
        using var store = suite.OpenStore();
        var summary = ProgressReporter.Run(plan.Runs.Count, progress => suite.Execute(plan, store, progress));
        Console.Error.WriteLine($"Trained {summary.Trained}, from store {summary.Cached}, diverged {summary.Diverged}, failed {summary.Failed}; {summary.Seconds:0} s.");
        foreach (var f in summary.Failures) Console.Error.WriteLine($"  failed: {f}");
        var result = suite.VerifyAndReport(store);
        var maps = VerdictMaps.Build(suite.Sweeps.Where(s => s.Id == id).ToList(), suite.AllClaims, [.. result.Claims.Select(c => c.Outcome)], suite.Settings, options.Profile);
        Console.WriteLine(MarkdownReport.Maps(maps).Replace("## Verdict maps", "").Trim());
        Console.WriteLine($"Report: {result.ReportPath} (and {result.MarkdownPath}); sweep saved as {file}.");
        return summary.Failed > 0 ? 1 : 0;
    }
}
