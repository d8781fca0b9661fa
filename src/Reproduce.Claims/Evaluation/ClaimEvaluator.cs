using Reproduce.Claims.Metrics;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;
using Reproduce.Claims.Store;

namespace Reproduce.Claims.Evaluation;

/// <summary>
/// Turns stored metrics into verdicts. Comparison: each regime vs the reference, paired by seed, one-sided
/// Wilcoxon signed-rank in the expected direction and the opposite one. Best: every other regime tested for being
/// better than the claimed one. Correlation: Kendall tau pooled over regimes and within each. All p-values of one
/// family (sharpness, safety) over the evaluated claims are adjusted together (Benjamini-Yekutieli, as the paper;
/// Benjamini-Hochberg reported beside it). A comparison is reproduced when its adjusted p is at most alpha,
/// contradicted when the opposite test's adjusted p is, and inconclusive otherwise.
/// </summary>
public sealed class ClaimEvaluator(ResultSnapshot results, IReadOnlyDictionary<string, SettingSpec> settings, string profile, double alpha = 0.05)
{
    public const double ConvergedTrainAccuracy = 0.99;

    public ClaimEvaluator(ResultStore store, IReadOnlyDictionary<string, SettingSpec> settings, string profile, double alpha = 0.05)
        : this(ResultSnapshot.Of(store), settings, profile, alpha) { }

    public IReadOnlyList<ClaimOutcome> Evaluate(IReadOnlyList<ClaimSpec> claims)
    {
        var runs = results.Runs.Where(r => r.Profile == profile).ToList();
        var metricsByRun = results.Metrics.GroupBy(m => m.RunKey).ToDictionary(g => g.Key, g => g.ToDictionary(m => m.Metric));
        var outcomes = claims.Select(c => EvaluateOne(c, runs, metricsByRun)).ToList();
        AdjustFamilies(outcomes);
        foreach (var o in outcomes) Decide(o, claims.First(c => c.Id == o.ClaimId));
        return outcomes;
    }

    /// <summary>Values of a metric by seed for (setting, regime), from the runs planned for this profile's block.</summary>
    private Dictionary<int, double> Values(string setting, string regime, string metric, List<StoredRun> runs, Dictionary<string, Dictionary<string, StoredMetric>> metrics, out int diverged)
        => Values(setting, regime, metric, runs, metrics, out diverged, out _);

    /// <summary>
    /// As above, also naming the seeds whose value an iterative estimator reported as not converged (its details hold
    /// "Converged": false, as the Lanczos top eigenvalue does when its residual misses the tolerance within the budget).
    /// </summary>
    private Dictionary<int, double> Values(string setting, string regime, string metric, List<StoredRun> runs, Dictionary<string, Dictionary<string, StoredMetric>> metrics,
        out int diverged, out List<int> unconverged)
    {
        var block = settings[setting].For(profile);
        var wanted = Enumerable.Range(0, block.Seeds).Select(s => new RunSpec(setting, profile, block, Training.Regimes.RegimeRegistry.Get(regime), s).Key).ToHashSet();
        var mine = runs.Where(r => wanted.Contains(r.Key)).ToList();
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

    private ClaimOutcome EvaluateOne(ClaimSpec claim, List<StoredRun> runs, Dictionary<string, Dictionary<string, StoredMetric>> metrics)
    {
        var comparisons = new List<ComparisonOutcome>();
        var correlations = new List<CorrelationOutcome>();
        var convergence = new List<Convergence>();
        foreach (var setting in claim.Settings)
        {
            var acc = Values(setting, "Base", "train_accuracy", runs, metrics, out _);
            var baseRuns = runs.Where(r => r.Setting == setting && r.Regime == "Base" && r.Profile == profile && !r.Diverged).ToList();
            double medAcc = acc.Count > 0 ? BootstrapInterval.Median([.. acc.Values]) : double.NaN;
            double medLoss = baseRuns.Count > 0 ? BootstrapInterval.Median([.. baseRuns.Select(r => r.FinalTrainLoss)]) : double.NaN;
            // Regression settings have no accuracy: their fit is judged by the train loss, which the report shows.
            convergence.Add(new Convergence(setting, medAcc, medLoss, settings[setting].For(profile).IsRegression || medAcc >= ConvergedTrainAccuracy));
            switch (claim.Kind)
            {
                case ClaimKind.Comparison:
                    foreach (var regime in claim.Regimes)
                        comparisons.Add(Compare(setting, claim.Metrics[0], claim.Baseline!, regime, claim.Direction, claim.Family, runs, metrics));
                    break;
                case ClaimKind.Best:
                    foreach (var metric in claim.Metrics)
                    {
                        // "Other regime better than the claimed one": expected direction = the metric's better direction.
                        var better = MetricCatalog.Get(metric).Better!;
                        foreach (var other in claim.Regimes)
                            comparisons.Add(Compare(setting, metric, claim.Baseline!, other, better, claim.Family, runs, metrics));
                    }
                    break;
                case ClaimKind.Correlation:
                    correlations.Add(Correlate(setting, claim, runs, metrics));
                    break;
            }
        }
        if (claim.Kind == ClaimKind.Condition)
            foreach (var other in claim.Settings.Skip(1))
                comparisons.Add(Compare(claim.Settings[0], claim.Metrics[0], claim.Baseline!, claim.Baseline!, claim.Direction, claim.Family, runs, metrics, other));
        return new ClaimOutcome
        {
            ClaimId = claim.Id, Statement = claim.Statement, Support = claim.Support, Kind = claim.Kind.ToString().ToLowerInvariant(), Profile = profile,
            Comparisons = comparisons, Correlations = correlations, Convergence = convergence,
        };
    }

    /// <summary>
    /// Regime vs reference within a setting; or, for a condition claim, the same regime in <paramref name="otherSetting"/>
    /// vs <paramref name="setting"/> (then the outcome's Setting reads "other vs setting").
    /// </summary>
    private ComparisonOutcome Compare(string setting, string metric, string reference, string regime, string expected, string family,
        List<StoredRun> runs, Dictionary<string, Dictionary<string, StoredMetric>> metrics, string? otherSetting = null)
    {
        var a = Values(setting, reference, metric, runs, metrics, out int da, out var ua);
        var b = Values(otherSetting ?? setting, regime, metric, runs, metrics, out int db, out var ub);
        var seeds = a.Keys.Intersect(b.Keys).Order().ToList();
        var refValues = seeds.Select(s => a[s]).ToList();
        double TrainLoss(string s, string r) => Values(s, r, "train_loss", runs, metrics, out _) is { Count: > 0 } v ? BootstrapInterval.Median([.. v.Values]) : double.NaN;
        double TrainAccuracy(string s, string r) => Values(s, r, "train_accuracy", runs, metrics, out _) is { Count: > 0 } v ? BootstrapInterval.Median([.. v.Values]) : double.NaN;
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
        var alt = expected == "higher" ? Alternative.Greater : Alternative.Less;
        var opp = alt == Alternative.Greater ? Alternative.Less : Alternative.Greater;
        var w = WilcoxonSignedRank.Test(regValues, refValues, alt);
        var wo = WilcoxonSignedRank.Test(regValues, refValues, opp);
        var diffs = regValues.Zip(refValues, (x, y) => x - y).ToList();
        var ci = BootstrapInterval.MedianDifference(diffs, seed: 0);
        return outcome with
        {
            P = w.PValue, POpposite = wo.PValue, Exact = w.Exact, RankBiserial = w.RankBiserial,
            ReferenceMedian = BootstrapInterval.Median(refValues), RegimeMedian = BootstrapInterval.Median(regValues),
            MedianDifference = ci.Estimate, MedianDifferenceLower = ci.Lower, MedianDifferenceUpper = ci.Upper,
        };
    }

    private CorrelationOutcome Correlate(string setting, ClaimSpec claim, List<StoredRun> runs, Dictionary<string, Dictionary<string, StoredMetric>> metrics)
    {
        var regimes = claim.Regimes.Count > 0 ? claim.Regimes.Append(claim.Baseline).OfType<string>().ToList() : settings[setting].Regimes.ToList();
        var points = new List<CorrelationPoint>();
        foreach (var regime in regimes)
        {
            var x = Values(setting, regime, claim.Metrics[0], runs, metrics, out _);
            var y = Values(setting, regime, claim.Metrics[1], runs, metrics, out _);
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
        return new CorrelationOutcome
        {
            Setting = setting, X = claim.Metrics[0], Y = claim.Metrics[1], Expected = claim.Direction, Family = claim.Family, Runs = points.Count,
            Tau = t.Tau, P = t.PValue, POpposite = to.PValue, TauWithinRegime = within, Points = points, TauLower = interval.Lower, TauUpper = interval.Upper,
        };
    }

    private static void AdjustFamilies(IReadOnlyList<ClaimOutcome> outcomes)
    {
        foreach (var family in ClaimSpec.Families)
        {
            var comps = outcomes.SelectMany(o => o.Comparisons).Where(c => c.Family == family && !double.IsNaN(c.P)).ToList();
            var cors = outcomes.SelectMany(o => o.Correlations).Where(c => c.Family == family && !double.IsNaN(c.P)).ToList();
            var p = comps.Select(c => c.P).Concat(cors.Select(c => c.P)).ToList();
            var po = comps.Select(c => c.POpposite).Concat(cors.Select(c => c.POpposite)).ToList();
            if (p.Count == 0) continue;
            var by = MultipleTesting.BenjaminiYekutieli(p);
            var byo = MultipleTesting.BenjaminiYekutieli(po);
            var bh = MultipleTesting.BenjaminiHochberg(p);
            for (int i = 0; i < comps.Count; i++) { comps[i].PAdjusted = by[i]; comps[i].PAdjustedOpposite = byo[i]; comps[i].PAdjustedBh = bh[i]; }
            for (int i = 0; i < cors.Count; i++) { cors[i].PAdjusted = by[comps.Count + i]; cors[i].PAdjustedOpposite = byo[comps.Count + i]; }
        }
    }

    private void Decide(ClaimOutcome outcome, ClaimSpec claim)
    {
        foreach (var c in outcome.Comparisons.Where(c => c.Verdict != Verdicts.NoData))
            c.Verdict = c.PAdjusted <= alpha ? Verdicts.Reproduced : c.PAdjustedOpposite <= alpha ? Verdicts.Contradicted : Verdicts.Inconclusive;
        foreach (var c in outcome.Correlations.Where(c => c.Verdict != Verdicts.NoData))
            c.Verdict = claim.Direction == "not-positive"
                ? (c.PAdjustedOpposite <= alpha ? Verdicts.Contradicted : Verdicts.Reproduced)
                : (c.PAdjusted <= alpha ? Verdicts.Reproduced : c.PAdjustedOpposite <= alpha ? Verdicts.Contradicted : Verdicts.Inconclusive);
        var verdicts = outcome.Comparisons.Select(c => c.Verdict).Concat(outcome.Correlations.Select(c => c.Verdict)).ToList();
        if (claim.Kind == ClaimKind.Best)
        {
            // Comparisons here test "another regime is better than the claimed one": a reproduced comparison
            // contradicts the claim. Best or tied-best = no other regime significantly better, and the claimed regime
            // has the best median in at least half of the (setting, metric) cells.
            foreach (var c in outcome.Comparisons)
                c.Verdict = c.Verdict switch { Verdicts.Reproduced => Verdicts.Beats, Verdicts.Contradicted => Verdicts.LosesTo, Verdicts.Inconclusive => Verdicts.Tie, var v => v };
            verdicts = outcome.Comparisons.Select(c => c.Verdict).ToList();
            bool beaten = outcome.Comparisons.Any(c => c.Verdict == Verdicts.Beats);
            var cells = outcome.Comparisons.GroupBy(c => (c.Setting, c.Metric)).ToList();
            int bestCells = cells.Count(g => g.All(c => !double.IsNaN(c.ReferenceMedian) && (c.Expected == "higher" ? c.ReferenceMedian >= c.RegimeMedian : c.ReferenceMedian <= c.RegimeMedian)));
            outcome.Verdict = verdicts.All(v => v == Verdicts.NoData) ? Verdicts.NoData
                : beaten ? Verdicts.Contradicted
                : 2 * bestCells >= cells.Count ? Verdicts.Reproduced : Verdicts.Inconclusive;
            outcome.VerdictNote = $"{claim.Baseline} has the best median in {bestCells} of {cells.Count} (setting, metric) cells; {outcome.Comparisons.Count(c => c.Verdict == Verdicts.Beats)} significant wins for another regime, {outcome.Comparisons.Count(c => c.Verdict == Verdicts.LosesTo)} significant losses";
        }
        else if (verdicts.Count == 0 || verdicts.All(v => v == Verdicts.NoData)) outcome.Verdict = Verdicts.NoData;
        else
        {
            var real = verdicts.Where(v => v != Verdicts.NoData).ToList();
            bool any(string v) => real.Contains(v);
            outcome.Verdict = real.All(v => v == Verdicts.Reproduced) ? Verdicts.Reproduced
                : any(Verdicts.Contradicted) && any(Verdicts.Reproduced) ? Verdicts.Mixed
                : any(Verdicts.Contradicted) ? Verdicts.Contradicted
                : any(Verdicts.Reproduced) ? Verdicts.Partly
                : Verdicts.Inconclusive;
            outcome.VerdictNote = $"{real.Count(v => v == Verdicts.Reproduced)} reproduced, {real.Count(v => v == Verdicts.Contradicted)} contradicted, {real.Count(v => v == Verdicts.Inconclusive)} inconclusive of {real.Count}";
        }
        if (!outcome.AllConverged) outcome.VerdictNote += "; computed on runs that did not reach 99% train accuracy (Base)";
        var unconverged = outcome.Comparisons.SelectMany(c => new[] { (c.Setting, c.Reference, c.ReferenceTrainAccuracy), (c.Setting, c.Regime, c.RegimeTrainAccuracy) })
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
