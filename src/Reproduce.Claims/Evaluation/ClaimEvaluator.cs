using Reproduce.Claims.Metrics;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;
using Reproduce.Claims.Store;

namespace Reproduce.Claims.Evaluation;

/// <summary>
/// Turns stored metrics into verdicts. Comparison: each regime vs the reference, paired by seed, Wilcoxon signed-rank;
/// on a per-group metric (disagreement, JS divergence), whose per-seed values share models, the paired permutation
/// test over models instead (<see cref="ModelPermutationTest"/>, from the stored test predictions).
/// Best: every rival regime against the claimed one. Correlation: Kendall tau pooled over regimes (and within each,
/// reported). Condition: the same regime in a later setting vs the first.
///
/// <para>The rule is symmetric: each test's two-sided p = min(1, 2 min(p_expected, p_opposite)) enters one list per
/// multiple-testing family, adjusted by Benjamini-Yekutieli (the paper's choice; Benjamini-Hochberg shown beside it).
/// A test with adjusted p &lt;= alpha is significant, and its sign decides: reproduced when the smaller one-sided p is
/// the claimed direction's, contradicted otherwise; not significant is inconclusive. So agreeing with the paper and
/// contradicting it need the same evidence. Families are whole: every member claim of the catalogue is evaluated,
/// whatever the selection, and a test without data counts as p = 1.</para>
///
/// <para>Premises (<see cref="Premise"/>) are checked per comparison on each side's median; a comparison that misses
/// one is "premise unmet" and counts neither way (its p still enters the family, which is conservative). A claim of
/// no effect ("not-positive") is reproduced only by a significant effect the other way; otherwise "not rejected".</para>
/// </summary>
public sealed class ClaimEvaluator(PlannedResults planned, double alpha = 0.05)
{
    public const double ConvergedTrainAccuracy = 0.99;
    private readonly IReadOnlyDictionary<string, SettingSpec> settings = planned.Settings;
    private readonly string profile = planned.Profile;

    /// <summary>Evaluates a snapshot at <paramref name="profile"/>, read through the plan-keyed table (<see cref="PlannedResults"/>).</summary>
    public ClaimEvaluator(ResultSnapshot results, IReadOnlyDictionary<string, SettingSpec> settings, string profile, double alpha = 0.05)
        : this(new PlannedResults(results, settings, profile), alpha) { }

    public ClaimEvaluator(ResultStore store, IReadOnlyDictionary<string, SettingSpec> settings, string profile, double alpha = 0.05)
        : this(ResultSnapshot.Of(store), settings, profile, alpha) { }

    public double Alpha => alpha;

    /// <summary>
    /// Verdicts for <paramref name="claims"/>. <paramref name="catalogue"/> is every claim the suite has (default: the
    /// selection itself): the members of each selected claim's family are evaluated with it, so the family's
    /// adjustment is the same whichever claims were selected.
    /// </summary>
    public IReadOnlyList<ClaimOutcome> Evaluate(IReadOnlyList<ClaimSpec> claims, IReadOnlyList<ClaimSpec>? catalogue = null)
    {
        var families = claims.Select(c => c.Family).ToHashSet();
        var evaluated = claims.Concat((catalogue ?? []).Where(c => families.Contains(c.Family))).DistinctBy(c => c.Id).ToList();
        var outcomes = evaluated.Select(c => EvaluateOne(c)).ToList();
        AdjustFamilies(outcomes);
        foreach (var o in outcomes) Decide(o, evaluated.First(c => c.Id == o.ClaimId));
        var selected = claims.Select(c => c.Id).ToHashSet();
        return [.. outcomes.Where(o => selected.Contains(o.ClaimId))];
    }

    /// <summary>Values of a metric by seed for (setting, regime), from the runs planned for this profile's setting profile.</summary>
    private Dictionary<int, double> Values(string setting, string regime, string metric, out int diverged) => planned.Values(setting, regime, metric, out diverged);

    /// <summary>Whether a setting's fit is judged by the all-class train accuracy: a classification setting that trains
    /// Base (regression fits are judged by the loss; a setting without Base, e.g. incremental few-shot fitting 6 of 10
    /// classes, states its own fit premise in its claims).</summary>
    private bool FitIsTrainAccuracy(string setting) => !settings[setting].For(profile).IsRegression && settings[setting].Regimes.Contains("Base");

    private ClaimOutcome EvaluateOne(ClaimSpec claim)
    {
        var comparisons = new List<ComparisonOutcome>();
        var correlations = new List<CorrelationOutcome>();
        var convergence = new List<Convergence>();
        var bounds = new List<BoundOutcome>();
        foreach (var setting in claim.Settings)
        {
            // Both from the always-measured metrics of the planned Base runs (the runs table's final_train_* copies are gone).
            double medAcc = planned.Median(setting, "Base", "train_accuracy");
            double medLoss = planned.Median(setting, "Base", "train_loss");
            // Regression settings have no accuracy: their fit is judged by the train loss, which the report shows. A setting
            // that trains no Base (incremental few-shot: its regimes fit a subset of the classes, so the 10-class train
            // accuracy says nothing) has no Base fit to judge: its claims state their own fit premise.
            convergence.Add(new Convergence(setting, medAcc, medLoss, !FitIsTrainAccuracy(setting) || medAcc >= ConvergedTrainAccuracy));
            switch (claim.Kind)
            {
                case ClaimKind.Comparison:
                    foreach (var regime in claim.Regimes)
                        comparisons.Add(Compare(setting, claim.Metrics[0], claim.Reference!, regime, claim.Direction, claim.Family));
                    break;
                case ClaimKind.Best:
                    foreach (var metric in claim.Metrics)
                    {
                        // "Other regime better than the claimed one": expected direction = the metric's better direction.
                        var better = MetricRegistry.Get(metric).Better!;
                        foreach (var other in claim.Regimes)
                            comparisons.Add(Compare(setting, metric, claim.Reference!, other, better, claim.Family));
                    }
                    break;
                case ClaimKind.Correlation:
                    correlations.Add(Correlate(setting, claim));
                    break;
                case ClaimKind.StrongerCorrelation:
                    correlations.Add(Contrast(setting, claim));
                    break;
                case ClaimKind.Bound:
                    bounds.AddRange(claim.Metrics.Select(metric => Bound(setting, metric, claim)));
                    break;
            }
        }
        if (claim.Kind == ClaimKind.Condition)
            foreach (var other in claim.Settings.Skip(1))
                comparisons.Add(Compare(claim.Settings[0], claim.Metrics[0], claim.Reference!, claim.Reference!, claim.Direction, claim.Family, other));
        if (claim.Kind == ClaimKind.Trend)
            correlations.Add(Trend(claim));
        foreach (var c in comparisons)
            c.PremiseFailures = [.. claim.Premises.Select(p => CheckPremise(p, [(c.ReferenceSetting, c.Reference), (c.RegimeSetting, c.Regime)])).OfType<string>()];
        foreach (var c in claim.Kind is ClaimKind.Correlation or ClaimKind.StrongerCorrelation ? correlations : [])
            c.PremiseFailures = [.. claim.Premises.Select(p => CheckPremise(p, [.. c.Points.Select(q => q.Regime).Distinct().Select(r => (c.Setting, r))])).OfType<string>()];
        return new ClaimOutcome
        {
            ClaimId = claim.Id, Statement = claim.Statement, Support = claim.Support, Kind = claim.Kind.Name(), Profile = profile,
            Comparisons = comparisons, Correlations = correlations, Convergence = convergence, Bounds = bounds,
        };
    }

    /// <summary>
    /// Null when <paramref name="premise"/> holds for the given sides (setting, regime); else a sentence with the
    /// figures, e.g. "cnn/Aug median train_accuracy 0.83 < 0.99 (the paper compares minima)".
    /// </summary>
    private string? CheckPremise(Premise premise, IReadOnlyList<(string Setting, string Regime)> sides)
    {
        var medians = sides.Distinct().Select(side =>
        {
            var v = Values(side.Setting, side.Regime, premise.Metric, out _);
            return (Side: $"{side.Setting}/{side.Regime}", Median: v.Count > 0 ? BootstrapInterval.Median([.. v.Values]) : double.NaN);
        }).ToList();
        var missing = medians.Where(m => double.IsNaN(m.Median)).Select(m => m.Side).ToList();
        if (missing.Count > 0) return $"{string.Join(", ", missing)}: no {premise.Metric} to check the premise ({premise.Reason})";
        if (premise.AtLeast is { } lo && medians.Where(m => m.Median < lo).ToList() is { Count: > 0 } low)
            return $"{string.Join(", ", low.Select(m => $"{m.Side} median {premise.Metric} {m.Median:g4}"))} < {lo:g4} ({premise.Reason})";
        if (premise.AtMost is { } hi && medians.Where(m => m.Median > hi).ToList() is { Count: > 0 } high)
            return $"{string.Join(", ", high.Select(m => $"{m.Side} median {premise.Metric} {m.Median:g4}"))} > {hi:g4} ({premise.Reason})";
        if (premise.RatioAtMost is { } ratio && medians.Count >= 2)
        {
            double max = medians.Max(m => Math.Abs(m.Median)), min = medians.Min(m => Math.Abs(m.Median));
            if (!(max <= ratio * min))
                return $"median {premise.Metric} {string.Join(" vs ", medians.Select(m => $"{m.Side} {m.Median:g4}"))}: ratio {(min > 0 ? (max / min).ToString("g4") : "infinite")} > {ratio:g4} ({premise.Reason})";
        }
        return null;
    }

    /// <summary>
    /// Regime vs reference within a setting; or, for a condition claim, the same regime in <paramref name="otherSetting"/>
    /// vs <paramref name="setting"/> (then the outcome's Setting reads "other vs setting").
    /// </summary>
    private ComparisonOutcome Compare(string setting, string metric, string reference, string regime, string expected, string family,
        string? otherSetting = null)
    {
        var a = planned.Values(setting, reference, metric, out int da, out var ua);
        var b = planned.Values(otherSetting ?? setting, regime, metric, out int db, out var ub);
        var seeds = a.Keys.Intersect(b.Keys).Order().ToList();
        var refValues = seeds.Select(s => a[s]).ToList();
        double TrainLoss(string s, string r) => planned.Median(s, r, "train_loss");
        double TrainAccuracy(string s, string r) => planned.Median(s, r, "train_accuracy");
        var regValues = seeds.Select(s => b[s]).ToList();
        var outcome = new ComparisonOutcome
        {
            Setting = otherSetting is null ? setting : $"{otherSetting} vs {setting}", ReferenceSetting = setting, RegimeSetting = otherSetting ?? setting,
            Metric = metric, Reference = reference, Regime = regime, Expected = expected, Family = family,
            Seeds = seeds, ReferenceValues = refValues, RegimeValues = regValues, DroppedSeeds = da + db,
            UnconvergedReferenceSeeds = [.. ua.Where(seeds.Contains)], UnconvergedRegimeSeeds = [.. ub.Where(seeds.Contains)],
            ReferenceTrainAccuracy = TrainAccuracy(setting, reference), RegimeTrainAccuracy = TrainAccuracy(otherSetting ?? setting, regime),
            ReferenceTrainLoss = TrainLoss(setting, reference), RegimeTrainLoss = TrainLoss(otherSetting ?? setting, regime),
            P = double.NaN, POpposite = double.NaN, ReferenceMedian = double.NaN, RegimeMedian = double.NaN, MedianDifference = double.NaN,
            MedianDifferenceLower = double.NaN, MedianDifferenceUpper = double.NaN,
        };
        if (seeds.Count < 2) { outcome.Verdict = Verdicts.NoData; return outcome; }
        if (MetricRegistry.Get(metric) is GroupMetric pairwise)
            return CompareModels(outcome, pairwise, setting, reference, regime, expected, otherSetting);
        var alt = expected == "higher" ? Alternative.Greater : Alternative.Less;
        var opp = alt == Alternative.Greater ? Alternative.Less : Alternative.Greater;
        var w = WilcoxonSignedRank.Test(regValues, refValues, alt);
        var wo = WilcoxonSignedRank.Test(regValues, refValues, opp);
        var diffs = regValues.Zip(refValues, (x, y) => x - y).ToList();
        var ci = BootstrapInterval.MedianDifference(diffs, seed: 0);
        var effect = BootstrapInterval.RankBiserial(diffs, seed: 0);
        return outcome with
        {
            P = w.PValue, POpposite = wo.PValue, Exact = w.Exact, RankBiserial = w.RankBiserial, RankBiserialLower = effect.Lower, RankBiserialUpper = effect.Upper,
            ReferenceMedian = BootstrapInterval.Median(refValues), RegimeMedian = BootstrapInterval.Median(regValues),
            MedianDifference = ci.Estimate, MedianDifferenceLower = ci.Lower, MedianDifferenceUpper = ci.Upper,
        };
    }

    /// <summary>
    /// A per-group metric (disagreement, JS divergence): its per-seed values share models, so they are no independent
    /// replicates and are kept only as descriptive numbers (the medians). The test is the paired permutation test over
    /// models (<see cref="ModelPermutationTest"/>) on the pairwise matrix d(i, j) of the 2n models (regime and reference
    /// of each seed both stored), computed with the metric's own pairwise function from the stored predictions, read
    /// as the group step reads them. The effect is T = mean pairwise d within the regime - within the reference, with a
    /// seeded bootstrap interval over seeds; the rank-biserial has no meaning here (NaN).
    /// </summary>
    private ComparisonOutcome CompareModels(ComparisonOutcome outcome, GroupMetric pairwise, string setting, string reference, string regime, string expected,
        string? otherSetting)
    {
        if (otherSetting is not null)
            throw new ArgumentException($"{pairwise.Name} is computed between models on the same test points; a condition claim compares two settings, which do not share them.");
        var regimeRuns = planned.Runs(setting, regime).Where(r => !r.Diverged).ToDictionary(r => r.Seed);
        var referenceRuns = planned.Runs(setting, reference).Where(r => !r.Diverged).ToDictionary(r => r.Seed);
        var seeds = outcome.Seeds.Where(s => regimeRuns.ContainsKey(s) && referenceRuns.ContainsKey(s)
            && planned.PredictionsOf(regimeRuns[s].Key) is not null && planned.PredictionsOf(referenceRuns[s].Key) is not null).ToList();
        var described = outcome with
        {
            ReferenceMedian = BootstrapInterval.Median(outcome.ReferenceValues), RegimeMedian = BootstrapInterval.Median(outcome.RegimeValues), RankBiserial = double.NaN,
        };
        if (seeds.Count < 2) { described.Verdict = Verdicts.NoData; return described; }
        // Models 0..n-1: the regime's, n..2n-1: the reference's, both in seed order.
        var keys = seeds.Select(s => regimeRuns[s].Key).Concat(seeds.Select(s => referenceRuns[s].Key)).ToList();
        var stored = keys.Select(k => planned.PredictionsOf(k)!.Value).ToList();
        if (stored.Any(p => p.Classes != stored[0].Classes || !p.Labels.AsSpan().SequenceEqual(stored[0].Labels)))
            throw new InvalidDataException($"{setting}: the stored test predictions of {regime} and {reference} are not on the same test points ({string.Join(", ", keys)}).");
        int m = keys.Count, n = seeds.Count;
        var d = new double[m, m];
        using (var scope = TorchSharp.torch.NewDisposeScope())
        using (var models = GroupMeasurementContext.FromStored([.. stored.Select((p, i) => (Seed: seeds[i % n], Predictions: p))]))
            for (int i = 0; i < m; i++)
                for (int j = i + 1; j < m; j++)
                    d[i, j] = d[j, i] = pairwise.Between(models.Members[i], models.Members[j]);
        var pairs = Enumerable.Range(0, n).Select(s => (Claimed: s, Reference: n + s)).ToList();
        var test = ModelPermutationTest.Test(d, pairs);
        var ci = ModelPermutationTest.Interval(d, pairs);
        bool higher = expected == "higher";
        return described with
        {
            P = higher ? test.PGreater : test.PLess, POpposite = higher ? test.PLess : test.PGreater, Exact = test.Exact,
            MedianDifference = test.Statistic, MedianDifferenceLower = ci.Lower, MedianDifferenceUpper = ci.Upper,
        };
    }

    /// <summary>The regimes a correlation pools in a setting: the claim's (with its reference, if any), or every regime the
    /// setting trains when the claim names none (as <see cref="RunPlan"/> plans them).</summary>
    private List<string> PooledRegimes(string setting, ClaimSpec claim) =>
        claim.Regimes.Count > 0 ? claim.Regimes.Append(claim.Reference).OfType<string>().ToList() : [.. settings[setting].Regimes];

    private CorrelationOutcome Correlate(string setting, ClaimSpec claim)
    {
        var regimes = PooledRegimes(setting, claim);
        var points = new List<CorrelationPoint>();
        foreach (var regime in regimes)
        {
            var x = Values(setting, regime, claim.Metrics[0], out _);
            var y = Values(setting, regime, claim.Metrics[1], out _);
            foreach (var s in x.Keys.Intersect(y.Keys).Order()) points.Add(new CorrelationPoint(regime, s, x[s], y[s]));
        }
        var (alt, opp) = claim.Direction switch
        {
            "positive" => (Alternative.Greater, Alternative.Less),
            "negative" => (Alternative.Less, Alternative.Greater),
            _ => (Alternative.Less, Alternative.Greater), // not-positive: contradicted by a significant positive tau
        };
        var within = points.GroupBy(p => p.Regime).Where(g => g.Count() >= 3)
            .ToDictionary(g => g.Key, g => KendallTau.Test([.. g.Select(p => p.X)], [.. g.Select(p => p.Y)]).Tau);
        if (points.Count < 3)
            return new CorrelationOutcome { Setting = setting, X = claim.Metrics[0], Y = claim.Metrics[1], Expected = claim.Direction, Family = claim.Family, Runs = points.Count, Tau = double.NaN, P = double.NaN, POpposite = double.NaN, TauWithinRegime = within, Points = points, Verdict = Verdicts.NoData };
        var xs = points.Select(p => p.X).ToList(); var ys = points.Select(p => p.Y).ToList();
        var t = KendallTau.Test(xs, ys, alt);
        var to = KendallTau.Test(xs, ys, opp);
        // Seeded percentile bootstrap over runs: the interval a re-run on another machine is held to.
        var interval = BootstrapInterval.Percentile(points, sample => KendallTau.Test([.. sample.Select(p => p.X)], [.. sample.Select(p => p.Y)]).Tau, resamples: 2000, seed: 0);
        var stratified = KendallTau.Stratified(points.GroupBy(p => p.Regime).Select(g => ((IReadOnlyList<double>)[.. g.Select(p => p.X)], (IReadOnlyList<double>)[.. g.Select(p => p.Y)])));
        return new CorrelationOutcome
        {
            Setting = setting, X = claim.Metrics[0], Y = claim.Metrics[1], Expected = claim.Direction, Family = claim.Family, Runs = points.Count,
            Tau = t.Tau, P = t.PValue, POpposite = to.PValue, TauWithinRegime = within, Points = points, TauLower = interval.Lower, TauUpper = interval.Upper,
            StratifiedTau = stratified.Tau, StratifiedP = stratified.PValue,
        };
    }

    /// <summary>
    /// A stronger-correlation claim in one setting: the runs of the claim's regimes (every regime of the setting when it
    /// names none) with all three metrics; D = tau_b(x, y) - tau_b(rival, y) pooled over them, tested by the
    /// delete-one jackknife (<see cref="KendallTauDifference"/>, which needs 10 runs: fewer is no data), with a seeded
    /// percentile bootstrap interval over runs; the same difference within regimes reported beside it, and each
    /// measure's own tau within each regime of at least 3 runs.
    /// </summary>
    private CorrelationOutcome Contrast(string setting, ClaimSpec claim)
    {
        string xName = claim.Metrics[0], rivalName = claim.Metrics[1], yName = claim.Metrics[2];
        var regimes = PooledRegimes(setting, claim);
        var points = new List<CorrelationPoint>();
        foreach (var regime in regimes)
        {
            var x = Values(setting, regime, xName, out _);
            var z = Values(setting, regime, rivalName, out _);
            var y = Values(setting, regime, yName, out _);
            foreach (var s in x.Keys.Intersect(z.Keys).Intersect(y.Keys).Order()) points.Add(new CorrelationPoint(regime, s, x[s], y[s], z[s]));
        }
        var byRegime = points.GroupBy(p => p.Regime).Where(g => g.Count() >= 3).ToList();
        var outcome = new CorrelationOutcome
        {
            Setting = setting, X = xName, Y = yName, Rival = rivalName, Expected = claim.Direction, Family = claim.Family, Runs = points.Count,
            Tau = double.NaN, P = double.NaN, POpposite = double.NaN, Points = points,
            TauWithinRegime = byRegime.ToDictionary(g => g.Key, g => KendallTau.Test([.. g.Select(p => p.X)], [.. g.Select(p => p.Y)]).Tau),
            RivalTauWithinRegime = byRegime.ToDictionary(g => g.Key, g => KendallTau.Test([.. g.Select(p => p.Rival)], [.. g.Select(p => p.Y)]).Tau),
        };
        if (points.Count < KendallTauDifference.MinimumCount) { outcome.Verdict = Verdicts.NoData; return outcome; }
        List<double> xs = [.. points.Select(p => p.X)], zs = [.. points.Select(p => p.Rival)], ys = [.. points.Select(p => p.Y)];
        var d = KendallTauDifference.Test(xs, zs, ys);
        bool positive = claim.Direction == "positive";
        var regimeIndex = regimes.Select((r, i) => (r, i)).ToDictionary(t => t.r, t => t.i);
        var within = KendallTauDifference.Stratified(xs, zs, ys, [.. points.Select(p => regimeIndex[p.Regime])]);
        var interval = BootstrapInterval.Percentile(points, sample => KendallTau.Test([.. sample.Select(p => p.X)], [.. sample.Select(p => p.Y)]).Tau
            - KendallTau.Test([.. sample.Select(p => p.Rival)], [.. sample.Select(p => p.Y)]).Tau, resamples: 2000, seed: 0);
        return outcome with
        {
            Tau = d.Tau, RivalTau = d.RivalTau, TauDifference = d.Difference, TauDifferenceStandardError = d.StandardError, P = positive ? d.PGreater : d.PLess, POpposite = positive ? d.PLess : d.PGreater,
            TauDifferenceLower = interval.Lower, TauDifferenceUpper = interval.Upper,
            StratifiedTauDifference = within.Difference, StratifiedDifferenceP = within.PValue,
        };
    }

    /// <summary>
    /// A trend claim: the reference regime's metric in each of the ordered settings, for the seeds present in all of
    /// them; per seed, Kendall's S between the level index (0, 1, ...) and the values; the exact stratified test over
    /// seeds (<see cref="KendallTau.StratifiedExact"/>) decides. Its tau (sum S over the seeds' tau-b denominators) is
    /// the effect, with a seeded bootstrap interval over seeds; each seed's own tau is listed. Premises are checked in
    /// every setting on the reference regime's medians. Points carry the setting's name in the regime field.
    /// </summary>
    private CorrelationOutcome Trend(ClaimSpec claim)
    {
        string metric = claim.Metrics[0], regime = claim.Reference!;
        var perSetting = claim.Settings.Select(s => Values(s, regime, metric, out _)).ToList();
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
        outcome.PremiseFailures = [.. claim.Premises.Select(p => CheckPremise(p, [.. claim.Settings.Select(s => (s, regime))])).OfType<string>()];
        if (seeds.Count < 2) { outcome.Verdict = Verdicts.NoData; return outcome; }
        var t = KendallTau.StratifiedExact(blocks, alt);
        var to = KendallTau.StratifiedExact(blocks, opp);
        var interval = BootstrapInterval.Percentile(blocks, sample => KendallTau.Stratified(sample).Tau, resamples: 2000, seed: 0);
        var twoSided = KendallTau.StratifiedExact(blocks);
        return outcome with
        {
            Tau = t.Tau, P = t.PValue, POpposite = to.PValue, TauLower = interval.Lower, TauUpper = interval.Upper, StratifiedTau = t.Tau, StratifiedP = twoSided.PValue,
        };
    }

    /// <summary>
    /// A bound claim's (setting, metric): every seed's value in the claim's regime (diverged seeds dropped, and counted),
    /// with the premises checked on that regime's medians. The verdict is decided here, by no test: no value is no data,
    /// a missed premise is premise unmet, any seed outside [AtLeast, AtMost] is contradicted, all inside reproduced.
    /// </summary>
    private BoundOutcome Bound(string setting, string metric, ClaimSpec claim)
    {
        var values = planned.Values(setting, claim.Reference!, metric, out int diverged);
        var seeds = values.Keys.Order().ToList();
        var outcome = new BoundOutcome
        {
            Setting = setting, Metric = metric, Regime = claim.Reference!, AtLeast = claim.AtLeast, AtMost = claim.AtMost,
            Seeds = seeds, Values = [.. seeds.Select(k => values[k])], DroppedSeeds = diverged,
        };
        outcome.PremiseFailures = [.. claim.Premises.Select(p => CheckPremise(p, [(setting, claim.Reference!)])).OfType<string>()];
        outcome.Verdict = seeds.Count == 0 ? Verdicts.NoData
            : outcome.PremiseFailures.Count > 0 ? Verdicts.PremiseUnmet
            : outcome.OutsideSeeds.Count > 0 ? Verdicts.Contradicted : Verdicts.Reproduced;
        return outcome;
    }

    /// <summary>A bound claim's verdict from its (setting, metric) verdicts: no data when none has data, premise unmet
    /// when none counts, contradicted when any seed of any counted one is outside, else reproduced. The note names the
    /// offending seeds and their values.</summary>
    private static void DecideBound(ClaimOutcome outcome)
    {
        var real = outcome.Bounds.Where(b => Verdicts.Counts(b.Verdict)).ToList();
        outcome.Verdict = outcome.Bounds.All(b => b.Verdict == Verdicts.NoData) ? Verdicts.NoData
            : real.Count == 0 ? Verdicts.PremiseUnmet
            : real.Any(b => b.Verdict == Verdicts.Contradicted) ? Verdicts.Contradicted : Verdicts.Reproduced;
        var outside = real.Where(b => b.OutsideSeeds.Count > 0).ToList();
        outcome.VerdictNote = $"{real.Count(b => b.Verdict == Verdicts.Reproduced)} of {real.Count} (setting, metric) cells with every seed inside its interval"
            + (outside.Count == 0 ? "" : "; outside: " + string.Join("; ", outside.Select(b =>
                $"{b.Setting}/{b.Regime} {b.Metric} {b.Interval}: " + string.Join(", ", b.OutsideSeeds.Select(seed => FormattableString.Invariant($"seed {seed} {b.Values[b.Seeds.ToList().IndexOf(seed)]:R}"))))));
        var unmet = outcome.Bounds.SelectMany(b => b.PremiseFailures).Distinct().ToList();
        if (unmet.Count > 0) outcome.VerdictNote += $"; premise unmet: {string.Join("; ", unmet)}";
        var dropped = outcome.Bounds.Where(b => b.DroppedSeeds > 0).ToList();
        if (dropped.Count > 0) outcome.VerdictNote += "; diverged seeds without a value: " + string.Join(", ", dropped.Select(b => $"{b.Setting}/{b.Regime} {b.Metric} {b.DroppedSeeds}"));
    }

    /// <summary>
    /// One Benjamini-Yekutieli list per family over the two-sided p's of every test of every member; a test without
    /// data enters as p = 1 (so missing data can only make the family's adjustment more conservative).
    /// </summary>
    private static void AdjustFamilies(IReadOnlyList<ClaimOutcome> outcomes)
    {
        foreach (var family in outcomes.SelectMany(o => o.Comparisons.Select(c => c.Family).Concat(o.Correlations.Select(c => c.Family))).Distinct())
        {
            var comps = outcomes.SelectMany(o => o.Comparisons).Where(c => c.Family == family).ToList();
            var cors = outcomes.SelectMany(o => o.Correlations).Where(c => c.Family == family).ToList();
            var p = comps.Select(c => c.PTwoSided).Concat(cors.Select(c => c.PTwoSided)).Select(v => double.IsNaN(v) ? 1.0 : v).ToList();
            if (p.Count == 0) continue;
            var by = MultipleTesting.BenjaminiYekutieli(p);
            var bh = MultipleTesting.BenjaminiHochberg(p);
            for (int i = 0; i < comps.Count; i++) if (!double.IsNaN(comps[i].P)) { comps[i].PAdjusted = by[i]; comps[i].PAdjustedBh = bh[i]; }
            for (int i = 0; i < cors.Count; i++) if (!double.IsNaN(cors[i].P)) cors[i].PAdjusted = by[comps.Count + i];
        }
    }

    /// <summary>Significant (adjusted two-sided p at most alpha) and in the claimed direction (+1), the other way (-1), or not significant (0).</summary>
    private int SignificantSign(double pAdjusted, double p, double pOpposite)
        => !(pAdjusted <= alpha) ? 0 : p < pOpposite ? +1 : p > pOpposite ? -1 : 0;

    private void Decide(ClaimOutcome outcome, ClaimSpec claim)
    {
        if (claim.Kind == ClaimKind.Bound) { DecideBound(outcome); return; }
        foreach (var c in outcome.Comparisons.Where(c => c.Verdict != Verdicts.NoData))
            c.Verdict = c.PremiseFailures.Count > 0 ? Verdicts.PremiseUnmet
                : SignificantSign(c.PAdjusted, c.P, c.POpposite) switch { +1 => Verdicts.Reproduced, -1 => Verdicts.Contradicted, _ => Verdicts.Inconclusive };
        foreach (var c in outcome.Correlations.Where(c => c.Verdict != Verdicts.NoData))
            c.Verdict = c.PremiseFailures.Count > 0 ? Verdicts.PremiseUnmet
                : SignificantSign(c.PAdjusted, c.P, c.POpposite) switch
                {
                    +1 => Verdicts.Reproduced,
                    -1 => Verdicts.Contradicted,
                    // "Not positively correlated" is not shown by failing to find a positive correlation.
                    _ => claim.Direction == "not-positive" ? Verdicts.NotRejected : Verdicts.Inconclusive,
                };
        var verdicts = outcome.Comparisons.Select(c => c.Verdict).Concat(outcome.Correlations.Select(c => c.Verdict)).ToList();
        int premiseUnmet = verdicts.Count(v => v == Verdicts.PremiseUnmet);
        if (claim.Kind == ClaimKind.Best)
        {
            // Comparisons here test "a rival is better than the claimed regime" (two-sided): significant in that
            // direction, the rival beats it; significant the other way, the claimed regime beats the rival. Best =
            // no rival significantly better, and the claimed regime significantly better than every rival in at least
            // half of the (setting, metric) cells: only significant wins count (a tie is not a win).
            foreach (var c in outcome.Comparisons)
                c.Verdict = c.Verdict switch { Verdicts.Reproduced => Verdicts.Beats, Verdicts.Contradicted => Verdicts.LosesTo, Verdicts.Inconclusive => Verdicts.Tie, var v => v };
            bool beaten = outcome.Comparisons.Any(c => c.Verdict == Verdicts.Beats);
            var cells = outcome.Comparisons.GroupBy(c => (c.Setting, c.Metric)).ToList();
            int wonCells = cells.Count(g => g.All(c => c.Verdict == Verdicts.LosesTo));
            outcome.Verdict = outcome.Comparisons.All(c => c.Verdict == Verdicts.NoData) ? Verdicts.NoData
                : beaten ? Verdicts.Contradicted
                : outcome.Comparisons.All(c => !Verdicts.Counts(c.Verdict)) ? Verdicts.PremiseUnmet
                : 2 * wonCells >= cells.Count ? Verdicts.Reproduced : Verdicts.Inconclusive;
            outcome.VerdictNote = $"{claim.Reference} significantly better than every rival in {wonCells} of {cells.Count} (setting, metric) cells; "
                + $"{outcome.Comparisons.Count(c => c.Verdict == Verdicts.Beats)} significant wins for a rival, {outcome.Comparisons.Count(c => c.Verdict == Verdicts.LosesTo)} significant losses, "
                + $"{outcome.Comparisons.Count(c => c.Verdict == Verdicts.Tie)} without a significant difference";
        }
        else if (verdicts.Count == 0 || verdicts.All(v => v == Verdicts.NoData)) outcome.Verdict = Verdicts.NoData;
        else
        {
            var real = verdicts.Where(Verdicts.Counts).ToList();
            bool any(string v) => real.Contains(v);
            outcome.Verdict = real.Count == 0 ? Verdicts.PremiseUnmet
                : real.All(v => v == Verdicts.Reproduced) ? Verdicts.Reproduced
                : any(Verdicts.Contradicted) && any(Verdicts.Reproduced) ? Verdicts.Mixed
                : any(Verdicts.Contradicted) ? Verdicts.Contradicted
                : any(Verdicts.Reproduced) ? Verdicts.Partly
                : real.All(v => v == Verdicts.NotRejected) ? Verdicts.NotRejected
                : Verdicts.Inconclusive;
            outcome.VerdictNote = $"{real.Count(v => v == Verdicts.Reproduced)} reproduced, {real.Count(v => v == Verdicts.Contradicted)} contradicted, "
                + $"{real.Count(v => v is Verdicts.Inconclusive or Verdicts.NotRejected)} not significant of {real.Count}";
        }
        if (premiseUnmet > 0)
            outcome.VerdictNote += $"; {premiseUnmet} test(s) not counted, premise unmet: "
                + string.Join("; ", outcome.Comparisons.SelectMany(c => c.PremiseFailures).Concat(outcome.Correlations.SelectMany(c => c.PremiseFailures)).Distinct());
        if (!outcome.AllConverged) outcome.VerdictNote += "; computed on runs that did not reach 99% train accuracy (Base)";
        // Only where the all-class train accuracy measures the fit (a setting that trains Base; see the convergence above).
        var unconverged = outcome.Comparisons.Where(c => !settings.ContainsKey(c.RegimeSetting) || FitIsTrainAccuracy(c.RegimeSetting))
            .SelectMany(c => new[] { (c.Setting, c.Reference, c.ReferenceTrainAccuracy), (c.Setting, c.Regime, c.RegimeTrainAccuracy) })
            .Where(t => t.Item3 < ConvergedTrainAccuracy && t.Item2 != "Base").Distinct().ToList();
        var fits = outcome.Comparisons.Where(c => !double.IsNaN(c.RegimeTrainLoss) || !double.IsNaN(c.ReferenceTrainLoss)).ToList();
        if (fits.Count > 0)
            outcome.VerdictNote += "; median train loss (compared / reference): " + string.Join(", ", fits.Select(c => $"{c.Setting} {c.RegimeTrainLoss:g3} / {c.ReferenceTrainLoss:g3}"));
        if (unconverged.Count > 0)
            outcome.VerdictNote += "; not at 99% train accuracy: " + string.Join(", ", unconverged.Select(t => $"{t.Setting}/{t.Item2} {t.Item3:0.###}"));
        var estimates = outcome.Comparisons.SelectMany(c => new[] { (c.Setting, c.Metric, Regime: c.Reference, Seeds: c.UnconvergedReferenceSeeds), (c.Setting, c.Metric, Regime: c.Regime, Seeds: c.UnconvergedRegimeSeeds) })
            .Where(t => t.Seeds.Count > 0).DistinctBy(t => (t.Setting, t.Metric, t.Regime)).ToList();
        if (estimates.Count > 0)
            outcome.VerdictNote += "; estimator not converged (value used as is): " + string.Join(", ", estimates.Select(t => $"{t.Setting}/{t.Regime} {t.Metric} seeds {string.Join(" ", t.Seeds)}"));
    }
}
