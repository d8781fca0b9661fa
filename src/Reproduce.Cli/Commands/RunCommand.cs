using System.CommandLine;
using System.Text.Json;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Report;
using Reproduce.Claims.Store;
using Reproduce.Training.Checkpoints;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce run: train and measure what the selected claims need (incrementally), evaluate the verdicts, compare
/// them with the reviewed baselines (writing *.received.json for any difference), write the report.
/// Exit 0: everything as the baselines say; 1: a regression or a claim without baseline; 2: usage or input error.
/// </summary>
internal static class RunCommand
{
    public static readonly Option<string?> Shard = new("--shard") { Description = "i/n: run only shard i of n (runs split deterministically and disjointly); evaluation waits for merge." };

    public static Command Create()
    {
        var command = new Command("run", "Train and measure what the claims need, evaluate them, compare with the baselines, write the report.");
        CommonOptions.AddTo(command);
        command.Options.Add(Shard);
        command.SetAction(parse => Execute(parse));
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        var options = CommonOptions.Load(parse);
        var suite = ClaimSuite.Load(options);
        var plan = suite.Plan();
        bool json = parse.GetValue(CommonOptions.Json);
        var shard = parse.GetValue(Shard);
        if (shard is not null)
        {
            var parts = shard.Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n)) throw new ArgumentException($"--shard: expected i/n, got '{shard}'.");
            plan = plan.Shard(i, n);
            options.OutputFolder = Path.Combine(options.OutputFolder, $"shard-{i}-of-{n}");
        }
        using var folderLock = suite.LockOutput();
        Console.Error.WriteLine($"Profile {options.Profile}: {suite.Claims.Count} claims, {plan.Runs.Count} runs; store {options.StorePath}; {options.Threads} threads, {options.Workers} worker(s).");
        using var store = suite.OpenStore();
        var summary = ProgressReporter.Run(plan.Runs.Count, progress => suite.Execute(plan, store, progress));
        Console.Error.WriteLine($"Trained {summary.Trained}, re-measured from checkpoints {summary.Remeasured}, from store {summary.Cached}, diverged {summary.Diverged}, failed {summary.Failed}; {summary.MetricsMeasured} metrics measured in {summary.Seconds:0} s.");
        foreach (var f in summary.Failures) Console.Error.WriteLine($"  failed: {f}");
        if (shard is not null)
        {
            Console.Error.WriteLine($"Shard done: merge the shard stores with `reproduce merge` and run `reproduce report`.");
            return summary.Failed > 0 ? 1 : 0;
        }
        return Evaluate(suite, store, json, summary.Failed);
    }

    /// <summary>Verdicts, baseline comparison and report from the store (shared by run and report).</summary>
    public static int Evaluate(ClaimSuite suite, ResultStore store, bool json, int failedRuns = 0)
    {
        var options = suite.Options;
        var outcomes = suite.Evaluate(store);
        var baselines = new BaselineStore(options.Resolve(options.BaselinesFolder));
        var provenance = suite.CaptureProvenance();
        var results = new List<object>();
        var baselineVerdicts = new Dictionary<string, string>();
        int regressions = 0;
        foreach (var o in outcomes)
        {
            BaselineStore.CheckResult check;
            try { check = baselines.Check(o, provenance.CodeVersion, provenance.Environment); }
            catch (Claims.Specs.SpecException e)
            {
                // A corrupt baseline is a regression to report, not a reason to lose the other claims' results; the
                // received snapshot beside it is what a reviewer can accept in its place.
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine($"{o.ClaimId}: new snapshot {baselines.WriteReceived(BaselineStore.FromOutcome(o, provenance.CodeVersion, provenance.Environment))}");
                regressions++;
                results.Add(new { claim = o.ClaimId, verdict = o.Verdict, baseline = (string?)null, differences = (IReadOnlyList<string>)[e.Message], note = o.VerdictNote });
                continue;
            }
            if (check.Reviewed is not null) baselineVerdicts[o.ClaimId] = check.Reviewed.Verdict;
            if (!check.Matches)
            {
                regressions++;
                Console.Error.WriteLine($"{o.ClaimId}: differs from its baseline under the {check.Rule.ToString().ToLowerInvariant()} rule ({check.ReceivedPath}):");
                foreach (var d in check.Differences) Console.Error.WriteLine($"    {d}");
            }
            results.Add(new { claim = o.ClaimId, verdict = o.Verdict, baseline = check.Reviewed?.Verdict, rule = check.Rule.ToString().ToLowerInvariant(), differences = check.Differences, note = o.VerdictNote });
        }
        string folder = options.Resolve(options.OutputFolder);
        string markdown = MarkdownReport.Render(outcomes, baselineVerdicts, options.Profile, $"{provenance.CodeVersion}, TorchSharp {provenance.TorchSharpVersion}, {provenance.Device}, {provenance.Threads} threads");
        string mdPath = Path.Combine(folder, "report.md");
        AtomicFile.WriteAllText(mdPath, markdown);
        AtomicFile.WriteAllText(Path.Combine(folder, "outcomes.json"), JsonSerializer.Serialize(outcomes, BaselineStore.Json));
        string htmlPath = Path.Combine(folder, "report.html");
        AtomicFile.WriteAllText(htmlPath, new HtmlReport(suite, store) { Spectra = options.Checkpoints }.Render(outcomes, baselineVerdicts, provenance));
        if (json) Console.WriteLine(JsonSerializer.Serialize(new { profile = options.Profile, report = htmlPath, markdown = mdPath, regressions, claims = results }, BaselineStore.Json));
        else
        {
            foreach (var o in outcomes) Console.WriteLine($"{o.ClaimId,-36} {o.Verdict,-18} {o.VerdictNote}");
            Console.WriteLine($"Report: {htmlPath} (and {mdPath})");
        }
        return regressions > 0 || failedRuns > 0 ? 1 : 0;
    }
}
