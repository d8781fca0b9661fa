using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// A monotone trend of one metric over ordered settings (ring factors, label-noise levels) in the reference regime:
/// Kendall's S between level and value within each seed, summed over seeds, exact (a seed's values are exchangeable
/// over its levels under the null); direction "positive" = the metric rises along the listed settings. Reported as a
/// correlation (level ~ metric) whose points are (setting, seed, level index, value).
/// </summary>
public sealed class TrendKind : ClaimKind
{
    public override string Name => "trend";
    public override string Description => "a monotone trend of one metric over ordered settings in the reference regime: Kendall's S between level and value within each seed, exact over seeds";
    public override IReadOnlyList<string> Tests => ["kendall-tau"];
    public override IReadOnlyList<string> Directions => Specs.Directions.Trend;
    public override bool OrdersSettings => true;

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        if (claim.Settings is not null && claim.Settings.Count < 3) reader.Error("$.settings", "a trend claim orders at least three settings (two are a condition claim)");
        if (claim.Settings is not null && claim.Settings.Count > 8) reader.Error("$.settings", "a trend claim orders at most eight settings (its exact test enumerates 8! orderings per seed)");
        if (claim.Metrics is not null && claim.Metrics.Count != 1) reader.Error("$.metrics", $"a trend claim names exactly one metric; found {claim.Metrics.Count}");
        if (claim.Regimes.Count > 0) reader.Error("$.regimes", "a trend claim follows the one regime named by 'reference' over its settings; leave regimes out");
        if (claim.Test is not null && claim.Test != "kendall-tau") reader.Error("$.test", "a trend claim uses kendall-tau (within seed, exact)");
        if (claim.Metrics is not null && claim.Metrics.Any(m => MetricRegistry.Get(m) is GroupMetric)) reader.Error("$.metrics", "a per-group metric compares models on the same test points; a trend's settings do not share them");
    }

    /// <summary>
    /// The reference regime's metric in each of the ordered settings, for the seeds present in all of them; per seed,
    /// Kendall's S between the level index (0, 1, ...) and the values; the exact stratified test over seeds
    /// (<see cref="KendallTau.StratifiedExact"/>) decides. Its tau (sum S over the seeds' tau-b denominators) is the
    /// effect, with a seeded bootstrap interval over seeds; each seed's own tau is listed. Premises are checked in every
    /// setting on the reference regime's medians. Points carry the setting's name in the regime field.
    /// </summary>
    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests)
    {
        string metric = claim.Metrics[0], regime = claim.Reference!;
        var perSetting = claim.Settings.Select(s => evaluator.Values(s, regime, metric, out _)).ToList();
        var seeds = perSetting.Skip(1).Aggregate((IEnumerable<int>)perSetting[0].Keys, (a, b) => a.Intersect(b.Keys)).Order().ToList();
        var points = new List<CorrelationPoint>();
        foreach (var seed in seeds)
            for (int level = 0; level < claim.Settings.Count; level++)
                points.Add(new CorrelationPoint(claim.Settings[level], seed, level, perSetting[level][seed]));
        var blocks = seeds.Select(seed => ((IReadOnlyList<double>)[.. points.Where(p => p.Seed == seed).Select(p => p.X)], (IReadOnlyList<double>)[.. points.Where(p => p.Seed == seed).Select(p => p.Y)])).ToList();
        var (alt, opp) = claim.Direction == "positive" ? (Alternative.Greater, Alternative.Less) : (Alternative.Less, Alternative.Greater);
        var outcome = new CorrelationOutcome
        {
            Setting = string.Join(" < ", claim.Settings), X = "level", Y = metric, Expected = claim.Direction, Family = claim.Family, Runs = points.Count, IsTrend = true,
            Tau = double.NaN, P = double.NaN, POpposite = double.NaN, Points = points,
            TauWithinRegime = seeds.Zip(blocks).ToDictionary(t => $"seed {t.First}", t => KendallTau.Test(t.Second.Item1, t.Second.Item2).Tau),
        };
        outcome.PremiseFailures = evaluator.CheckPremises(claim, [.. claim.Settings.Select(s => (s, regime))]);
        if (seeds.Count < 2) { outcome.Verdict = Verdicts.NoData; tests.Correlations.Add(outcome); return; }
        var t = KendallTau.StratifiedExact(blocks, alt);
        var to = KendallTau.StratifiedExact(blocks, opp);
        var interval = BootstrapInterval.Percentile(blocks, sample => KendallTau.Stratified(sample).Tau, resamples: 2000, seed: 0);
        var twoSided = KendallTau.StratifiedExact(blocks);
        tests.Correlations.Add(outcome with
        {
            Tau = t.Tau, P = t.PValue, POpposite = to.PValue, TauLower = interval.Lower, TauUpper = interval.Upper, StratifiedTau = t.Tau, StratifiedP = twoSided.PValue,
        });
    }
}
