using System.Text.Json;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Report;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Checkpoints;

namespace Reproduce.Claims;

/// <summary>
/// The claims library's front door: load settings and claims, plan and execute the runs, evaluate the verdicts, hold
/// them against the reviewed baselines and write the report. The command line and the NUnit claim tests both go
/// through here, so they cannot disagree.
/// </summary>
public sealed class ClaimSuite
{
    private ClaimSuite(ReproduceOptions options, IReadOnlyDictionary<string, SettingSpec> settings, IReadOnlyList<ClaimSpec> all)
    {
        Options = options;
        Settings = settings;
        // The catalogue at this profile: claims restricted to other profiles are not planned, not evaluated and in no family here.
        AllClaims = [.. all.Where(c => c.RunsAt(options.Profile))];
        // A catalogue claim is selected when its id contains the filter; a sweep's cell only when its id starts with it
        // (the sweep's id, or "<sweep>.<claim>"), so a filter naming a claim never drags in the maps that sweep it.
        Claims = string.IsNullOrEmpty(options.Filter) ? AllClaims : AllClaims.Where(c => Selects(options.Filter, c)).ToList();
    }

    /// <summary>Whether a --filter selects a claim: a catalogue claim by any part of its id, a sweep's cell by a prefix.</summary>
    public static bool Selects(string filter, ClaimSpec claim) => claim.Cell is null
        ? claim.Id.Contains(filter, StringComparison.Ordinal)
        : claim.Id.StartsWith(filter, StringComparison.Ordinal);

    public ReproduceOptions Options { get; }
    public IReadOnlyDictionary<string, SettingSpec> Settings { get; }
    public IReadOnlyList<ClaimSpec> AllClaims { get; }
    public IReadOnlyList<ClaimSpec> Claims { get; }

    public static ClaimSuite Load(ReproduceOptions options)
    {
        var (settings, claims, sweeps) = LoadCatalogue(options.Resolve(options.ClaimsFolder), options.Profile, LocalSweepsFolder(options));
        var suite = new ClaimSuite(options, settings, claims) { Sweeps = sweeps };
        if (!string.IsNullOrEmpty(options.Filter) && suite.Claims.Count == 0)
            throw new ArgumentException($"Filter '{options.Filter}' matches no claim at profile {options.Profile}. Claims: {string.Join(", ", suite.AllClaims.Select(c => c.Id))}.");
        foreach (var claim in suite.Claims)
            foreach (var s in claim.Settings) settings[s].For(options.Profile);
        return suite;
    }

    /// <summary>The sweeps (verdict maps) at this profile: the repository's and the output folder's.</summary>
    public IReadOnlyList<SweepSpec> Sweeps { get; private init; } = [];

    /// <summary>Sweeps started from the command line (`reproduce sweep`) are saved in the output folder's sweeps/, so
    /// `run` and `report` on that folder resume and re-render them; they belong to that folder only.</summary>
    public static string LocalSweepsFolder(ReproduceOptions options) => Path.Combine(options.Resolve(options.OutputFolder), "sweeps");

    /// <summary>
    /// The catalogue at a profile: the settings (claims/settings/) and claims (claims/*.json), then every sweep's cells
    /// at that profile (claims/sweeps/, then <paramref name="localSweeps"/> when given): their derived settings join the
    /// settings and their claims follow the catalogue's own. What the suite, `list` and the claim tests enumerate.
    /// </summary>
    public static (IReadOnlyDictionary<string, SettingSpec> Settings, IReadOnlyList<ClaimSpec> Claims, IReadOnlyList<SweepSpec> Sweeps) LoadCatalogue(
        string claimsFolder, string profile, string? localSweeps = null)
    {
        var baseSettings = SettingLoader.LoadFolder(Path.Combine(claimsFolder, "settings"));
        var baseClaims = ClaimLoader.LoadFolder(claimsFolder, baseSettings);
        var sweeps = SweepLoader.LoadFolder(Path.Combine(claimsFolder, "sweeps"), baseClaims, baseSettings).ToList();
        if (localSweeps is not null)
            foreach (var local in SweepLoader.LoadFolder(localSweeps, baseClaims, baseSettings))
            {
                if (sweeps.Any(s => s.Id == local.Id)) throw new SpecException(local.File, "$.id", $"'{local.Id}' is also the id of {sweeps.First(s => s.Id == local.Id).File}");
                sweeps.Add(local with { Local = true });
            }
        var settings = new Dictionary<string, SettingSpec>(baseSettings, StringComparer.Ordinal);
        var claims = new List<ClaimSpec>(baseClaims);
        var active = sweeps.Where(s => s.RunsAt(profile) && s.Claims.All(c => baseClaims.First(b => b.Id == c).RunsAt(profile))).ToList();
        foreach (var sweep in active)
        {
            var (derivedSettings, cells) = SweepLoader.Expand(sweep, baseClaims, baseSettings, profile);
            foreach (var (name, setting) in derivedSettings) settings.TryAdd(name, setting);
            claims.AddRange(cells);
        }
        return (settings, claims, active);
    }

    public RunPlan Plan() => RunPlan.Build(Claims, Settings, Options.Profile);

    public ResultStore OpenStore() => new(Options.StorePath);

    /// <summary>The output folder's one-writer lock, held by every command that writes there (see <see cref="OutputFolderLock"/>).</summary>
    public OutputFolderLock LockOutput() => OutputFolderLock.Acquire(Options.Resolve(Options.OutputFolder));

    public ExecutionSummary Execute(RunPlan plan, ResultStore store, IProgress<RunEvent>? progress = null, CancellationToken cancel = default)
    {
        using var data = new DataProvider(Options);
        return new RunExecutor(Options, store, data, CaptureProvenance(), progress).Execute(plan, cancel);
    }

    /// <summary>Code version and execution environment of this process under these options (git is asked each call).</summary>
    public Provenance CaptureProvenance() => Provenance.Capture(Options.Root, Options.Device, Options.Threads, Options.Profile, Options.Workers);

    /// <summary>The store's results as this suite's profile plans them (what the evaluator and the report read).</summary>
    public PlannedResults Results(ResultStore store) => PlannedResults.Of(store, Settings, Options.Profile);

    /// <summary>Verdicts of the selected claims; each multiple-testing family spans all its member claims in the catalogue.</summary>
    public IReadOnlyList<ClaimOutcome> Evaluate(ResultStore store) => Evaluate(Results(store));

    public IReadOnlyList<ClaimOutcome> Evaluate(PlannedResults results) => new ClaimEvaluator(results, Options.Alpha).Evaluate(Claims, AllClaims);

    /// <summary>
    /// Evaluates the selected claims from the store, holds each against its reviewed baseline (writing
    /// &lt;claim&gt;.received.json beside a baseline it differs from, see <see cref="BaselineStore.Check"/>), and writes
    /// report.md, outcomes.json and report.html to the output folder (each atomically, in that order). Trains nothing
    /// and measures nothing: the verdicts and every figure come from the stored results, read once through one
    /// <see cref="PlannedResults"/>. What `reproduce run` and `reproduce report` do after training, and what a test
    /// project calls to see which verdicts moved (<see cref="VerificationResult.Moved"/>).
    /// </summary>
    public VerificationResult VerifyAndReport(ResultStore store)
    {
        var results = Results(store);
        var outcomes = Evaluate(results);
        var baselines = new BaselineStore(Options.Resolve(Options.BaselinesFolder));
        var provenance = CaptureProvenance();
        var claims = new List<ClaimVerification>();
        var local = Sweeps.Where(s => s.Local).Select(s => s.Id).ToHashSet();
        var localCells = AllClaims.Where(c => c.Cell is { } cell && local.Contains(cell.Sweep)).Select(c => c.Id).ToHashSet();
        foreach (var o in outcomes)
        {
            // A command-line sweep's cells are exploration: reported, never held to (or written as) a baseline.
            if (localCells.Contains(o.ClaimId)) { claims.Add(new ClaimVerification { Outcome = o, Differences = [], Local = true }); continue; }
            BaselineStore.CheckResult check;
            try { check = baselines.Check(o, provenance.CodeVersion, provenance.Environment); }
            catch (SpecException e)
            {
                // A corrupt baseline is a regression to report, not a reason to lose the other claims' results; the
                // received snapshot beside it is what a reviewer can accept in its place.
                string received = baselines.WriteReceived(BaselineStore.FromOutcome(o, provenance.CodeVersion, provenance.Environment));
                claims.Add(new ClaimVerification { Outcome = o, Differences = [e.Message], BaselineError = e.Message, ReceivedPath = received });
                continue;
            }
            claims.Add(new ClaimVerification { Outcome = o, ReviewedVerdict = check.Reviewed?.Verdict, Rule = check.Rule, Differences = check.Differences, ReceivedPath = check.ReceivedPath });
        }
        var baselineVerdicts = claims.Where(c => c.ReviewedVerdict is not null).ToDictionary(c => c.ClaimId, c => c.ReviewedVerdict!);
        string folder = Options.Resolve(Options.OutputFolder);
        string markdown = Path.Combine(folder, "report.md"), outcomesJson = Path.Combine(folder, "outcomes.json"), html = Path.Combine(folder, "report.html");
        var maps = VerdictMaps.Build(Sweeps, AllClaims, outcomes, Settings, Options.Profile);
        AtomicFile.WriteAllText(markdown, MarkdownReport.Render(outcomes, baselineVerdicts, Options.Profile,
            $"{provenance.CodeVersion}, TorchSharp {provenance.TorchSharpVersion}, {provenance.Device}, {provenance.Threads} threads",
            maps, AllClaims.Where(c => c.Cell is not null).Select(c => c.Id).ToHashSet(), RegimeGrid.Build(AllClaims, outcomes, Settings)));
        AtomicFile.WriteAllText(outcomesJson, JsonSerializer.Serialize(outcomes, BaselineStore.Json));
        AtomicFile.WriteAllText(html, new HtmlReport(this, results).Render(outcomes, baselineVerdicts, provenance));
        return new VerificationResult { Profile = Options.Profile, Claims = claims, ReportPath = html, MarkdownPath = markdown, OutcomesPath = outcomesJson };
    }
}
