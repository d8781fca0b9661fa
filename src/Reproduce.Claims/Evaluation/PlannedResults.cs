using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;
using Reproduce.Claims.Store;

namespace Reproduce.Claims.Evaluation;

/// <summary>
/// The stored results as the plan names them: the runs of (setting, regime) at a profile are the stored rows under the
/// keys of the <see cref="RunSpec"/>s the profile defines for seeds 0 .. Seeds-1 (<see cref="RunPlan.Build"/> plans
/// exactly these), never rows found by setting name or profile. A store reused across recipes, seed counts or profiles
/// may hold other runs of the same setting; they are invisible here. The evaluator's values and the report's figures
/// both read through this one table, so a figure cannot show a run that a verdict does not use, or the other way.
/// <para>A run key does not contain the profile's name (profiles with the same setting profile share runs), so the
/// stored profile column is not consulted either: the key alone says what a run is.</para>
/// </summary>
public sealed class PlannedResults
{
    private readonly IReadOnlyDictionary<string, SettingSpec> settings;
    private readonly Dictionary<string, StoredRun> runs;
    private readonly Dictionary<string, Dictionary<string, StoredMetric>> metrics;
    private readonly Dictionary<string, StoredSpectrum> spectra;
    private readonly Dictionary<(string Setting, string Regime), IReadOnlyList<RunSpec>> planned = [];

    public PlannedResults(ResultSnapshot results, IReadOnlyDictionary<string, SettingSpec> settings, string profile)
    {
        Results = results;
        Profile = profile;
        this.settings = settings;
        runs = results.Runs.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Last());
        metrics = results.Metrics.GroupBy(m => m.RunKey).ToDictionary(g => g.Key, g => g.ToDictionary(m => m.Metric));
        spectra = results.Spectra.GroupBy(s => s.RunKey).ToDictionary(g => g.Key, g => g.Last());
    }

    public static PlannedResults Of(ResultStore store, IReadOnlyDictionary<string, SettingSpec> settings, string profile) => new(ResultSnapshot.Of(store), settings, profile);

    public ResultSnapshot Results { get; }
    public string Profile { get; }
    public IReadOnlyDictionary<string, SettingSpec> Settings => settings;

    /// <summary>The runs the profile defines for (setting, regime): seeds 0 .. Seeds-1, in seed order.</summary>
    public IReadOnlyList<RunSpec> Planned(string setting, string regime)
    {
        lock (planned)
        {
            if (planned.TryGetValue((setting, regime), out var specs)) return specs;
            var settingProfile = settings[setting].For(Profile);
            var r = Training.Regimes.RegimeRegistry.Get(regime);
            specs = [.. Enumerable.Range(0, settingProfile.Seeds).Select(s => new RunSpec(setting, Profile, settingProfile, r, s))];
            planned[(setting, regime)] = specs;
            return specs;
        }
    }

    /// <summary>The stored runs of (setting, regime) under their planned keys, in seed order (runs not stored are left out; diverged ones are kept).</summary>
    public IReadOnlyList<StoredRun> Runs(string setting, string regime) =>
        [.. Planned(setting, regime).Select(spec => runs.GetValueOrDefault(spec.Key)).OfType<StoredRun>()];

    /// <summary>The stored metrics of a run by name (empty when none).</summary>
    public IReadOnlyDictionary<string, StoredMetric> MetricsOf(string runKey) =>
        metrics.TryGetValue(runKey, out var m) ? m : (IReadOnlyDictionary<string, StoredMetric>)new Dictionary<string, StoredMetric>();

    /// <summary>The stored Hessian spectrum of a run, or null.</summary>
    public StoredSpectrum? SpectrumOf(string runKey) => spectra.GetValueOrDefault(runKey);

    /// <summary>The stored test predictions of a run (float32 probabilities, labels, classes), or null.</summary>
    public (float[] Probabilities, long[] Labels, int Classes)? PredictionsOf(string runKey) =>
        Results.Predictions.TryGetValue(runKey, out var p) ? p : null;

    /// <summary>Values of a metric by seed for (setting, regime) over the planned, non-diverged runs that have it.</summary>
    public Dictionary<int, double> Values(string setting, string regime, string metric, out int diverged) => Values(setting, regime, metric, out diverged, out _);

    /// <summary>
    /// As above, also naming the seeds whose value an iterative estimator reported as not converged (its details hold
    /// "Converged": false, as the Lanczos top eigenvalue does when its residual misses the tolerance within the budget).
    /// </summary>
    public Dictionary<int, double> Values(string setting, string regime, string metric, out int diverged, out List<int> unconverged)
    {
        var mine = Runs(setting, regime);
        diverged = mine.Count(r => r.Diverged);
        unconverged = [];
        var result = new Dictionary<int, double>();
        foreach (var r in mine.Where(r => !r.Diverged))
            if (metrics.TryGetValue(r.Key, out var m) && m.TryGetValue(metric, out var v))
            {
                result[r.Seed] = v.Value;
                if (ReportsUnconverged(v.DetailsJson)) unconverged.Add(r.Seed);
            }
        unconverged.Sort();
        return result;
    }

    /// <summary>Median over seeds of a metric for (setting, regime); NaN when no run has it.</summary>
    public double Median(string setting, string regime, string metric) =>
        Values(setting, regime, metric, out _) is { Count: > 0 } v ? BootstrapInterval.Median([.. v.Values]) : double.NaN;

    /// <summary>True when a metric's details carry a top-level "Converged": false.</summary>
    public static bool ReportsUnconverged(string detailsJson)
    {
        if (!detailsJson.Contains("\"Converged\"", StringComparison.Ordinal)) return false;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(detailsJson);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && doc.RootElement.TryGetProperty("Converged", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.False;
        }
        catch (System.Text.Json.JsonException) { return false; }
    }
}
