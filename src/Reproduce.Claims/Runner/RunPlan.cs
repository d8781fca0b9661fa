using Reproduce.Claims.Metrics;
using Reproduce.Claims.Specs;
using Reproduce.Training.Regimes;

namespace Reproduce.Claims.Runner;

/// <summary>
/// The set of training runs the selected claims need (setting x regime x seed, each once however many claims use it),
/// and for each run the metrics to measure. Order is deterministic (setting, regime, seed).
/// </summary>
public sealed class RunPlan
{
    public RunPlan(IReadOnlyList<RunSpec> runs, IReadOnlyDictionary<string, IReadOnlySet<string>> metrics)
    {
        Runs = runs;
        MetricsByRun = metrics;
    }

    public IReadOnlyList<RunSpec> Runs { get; }
    public IReadOnlyDictionary<string, IReadOnlySet<string>> MetricsByRun { get; }

    /// <summary>Always measured: convergence and the gap need train accuracy; every report shows test accuracy.</summary>
    public static readonly IReadOnlyList<string> AlwaysMeasured = ["train_accuracy", "test_accuracy", "train_loss", "train_confidence", "gradient_norm"];

    /// <summary>Regression settings: how well the function is fitted, on both subsets.</summary>
    public static readonly IReadOnlyList<string> AlwaysMeasuredRegression = ["train_loss", "test_loss", "gradient_norm"];

    public static RunPlan Build(IEnumerable<ClaimSpec> claims, IReadOnlyDictionary<string, SettingSpec> settings, string profile)
    {
        var runs = new Dictionary<string, RunSpec>();
        var metrics = new Dictionary<string, HashSet<string>>();
        foreach (var claim in claims)
            foreach (var settingName in claim.Settings)
            {
                var setting = settings[settingName];
                var settingProfile = setting.For(profile);
                var regimes = claim.Regimes.Append(claim.Reference).OfType<string>().Append("Base").Distinct();
                if (claim.Kind.PoolsEveryRegime && claim.Regimes.Count == 0) regimes = setting.Regimes;
                foreach (var regimeName in regimes.Where(setting.Regimes.Contains))
                    for (int seed = 0; seed < settingProfile.Seeds; seed++)
                    {
                        var run = new RunSpec(settingName, profile, settingProfile, RegimeRegistry.Get(regimeName), seed);
                        var key = run.Key;
                        runs.TryAdd(key, run);
                        if (!metrics.TryGetValue(key, out var set)) metrics[key] = set = [.. (settingProfile.IsRegression ? AlwaysMeasuredRegression : AlwaysMeasured)];
                        // Base runs carry every metric of the claim (they are the reference of comparisons and correlations).
                        foreach (var m in claim.Metrics) set.Add(m);
                        // A premise's metric is measured wherever the premise is checked (all of today's but e01's are
                        // always measured, so this adds nothing to their runs).
                        foreach (var premise in claim.Premises) set.Add(premise.Metric);
                        if (claim.Metrics.Contains("generalisation_gap")) { set.Add("train_accuracy"); set.Add("test_accuracy"); }
                    }
            }
        var ordered = runs.Values.OrderBy(r => r.Setting, StringComparer.Ordinal).ThenBy(r => r.Regime.Name, StringComparer.Ordinal).ThenBy(r => r.Seed).ToList();
        return new RunPlan(ordered, metrics.ToDictionary(p => p.Key, p => (IReadOnlySet<string>)p.Value));
    }

    /// <summary>The runs of shard i of n (1-based): every n-th run of the deterministic order, disjoint and covering.</summary>
    public RunPlan Shard(int index, int count)
    {
        if (count < 1 || index < 1 || index > count) throw new ArgumentException($"Shard {index}/{count}: need 1 <= i <= n.");
        var runs = Runs.Where((_, i) => i % count == index - 1).ToList();
        return new RunPlan(runs, runs.ToDictionary(r => r.Key, r => MetricsByRun[r.Key]));
    }

    /// <summary>Per-group metrics (disagreement) are computed across the seeds of a (setting, regime) after all its runs exist.</summary>
    public IEnumerable<IGrouping<(string Setting, string Regime), RunSpec>> Groups() =>
        Runs.GroupBy(r => (r.Setting, r.Regime.Name));

    public static bool IsPerGroup(string metric) => MetricRegistry.Get(metric).PerGroup;
}
