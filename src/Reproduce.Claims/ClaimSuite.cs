using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;

namespace Reproduce.Claims;

/// <summary>
/// The claims library's front door: load settings and claims, plan and execute the runs, evaluate the verdicts.
/// The command line and the NUnit claim tests both go through here, so they cannot disagree.
/// </summary>
public sealed class ClaimSuite
{
    private ClaimSuite(ReproduceOptions options, IReadOnlyDictionary<string, SettingSpec> settings, IReadOnlyList<ClaimSpec> all)
    {
        Options = options;
        Settings = settings;
        AllClaims = all;
        Claims = string.IsNullOrEmpty(options.Filter) ? all : all.Where(c => c.Id.Contains(options.Filter, StringComparison.Ordinal)).ToList();
    }

    public ReproduceOptions Options { get; }
    public IReadOnlyDictionary<string, SettingSpec> Settings { get; }
    public IReadOnlyList<ClaimSpec> AllClaims { get; }
    public IReadOnlyList<ClaimSpec> Claims { get; }

    public static ClaimSuite Load(ReproduceOptions options)
    {
        string folder = options.Resolve(options.ClaimsFolder);
        var settings = SettingLoader.LoadFolder(Path.Combine(folder, "settings"));
        var claims = ClaimLoader.LoadFolder(folder, settings);
        var suite = new ClaimSuite(options, settings, claims);
        if (!string.IsNullOrEmpty(options.Filter) && suite.Claims.Count == 0)
            throw new ArgumentException($"Filter '{options.Filter}' matches no claim. Claims: {string.Join(", ", claims.Select(c => c.Id))}.");
        foreach (var claim in suite.Claims)
            foreach (var s in claim.Settings) settings[s].For(options.Profile);
        return suite;
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

    /// <summary>Verdicts of the selected claims; each multiple-testing family spans all its member claims in the catalogue.</summary>
    public IReadOnlyList<ClaimOutcome> Evaluate(ResultStore store)
        => new ClaimEvaluator(store, Settings, Options.Profile, Options.Alpha).Evaluate(Claims, AllClaims);
}
