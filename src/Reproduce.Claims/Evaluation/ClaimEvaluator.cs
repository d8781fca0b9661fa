using Reproduce.Claims.Kinds;
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
        foreach (var o in outcomes) { var claim = evaluated.First(c => c.Id == o.ClaimId); claim.Kind.Decide(this, claim, o); }
        var selected = claims.Select(c => c.Id).ToHashSet();
        return [.. outcomes.Where(o => selected.Contains(o.ClaimId))];
    }

    /// <summary>Values of a metric by seed for (setting, regime), from the runs planned for this profile's setting profile.</summary>
    internal Dictionary<int, double> Values(string setting, string regime, string metric, out int diverged) => planned.Values(setting, regime, metric, out diverged);

    /// <summary>Whether a setting's fit is judged by the all-class train accuracy: a classification setting that trains
    /// Base (regression fits are judged by the loss; a setting without Base, e.g. incremental few-shot fitting 6 of 10
    /// classes, states its own fit premise in its claims).</summary>
    private bool FitIsTrainAccuracy(string setting) => !settings[setting].For(profile).IsRegression && settings[setting].Regimes.Contains("Base");

    private ClaimOutcome EvaluateOne(ClaimSpec claim)
    {
        var convergence = new List<Convergence>();
        foreach (var setting in claim.Settings)
        {
            // Both from the always-measured metrics of the planned Base runs (the runs table's final_train_* copies are gone).
            double medAcc = planned.Median(setting, "Base", "train_accuracy");
            double medLoss = planned.Median(setting, "Base", "train_loss");
            // Regression settings have no accuracy: their fit is judged by the train loss, which the report shows. A setting
            // that trains no Base (incremental few-shot: its regimes fit a subset of the classes, so the 10-class train
            // accuracy says nothing) has no Base fit to judge: its claims state their own fit premise.
            convergence.Add(new Convergence(setting, medAcc, medLoss, !FitIsTrainAccuracy(setting) || medAcc >= ConvergedTrainAccuracy));
        }
        var tests = new ClaimTests();
        claim.Kind.Evaluate(this, claim, tests);
        foreach (var c in tests.Comparisons)
            c.PremiseFailures = CheckPremises(claim, [(c.ReferenceSetting, c.Reference), (c.RegimeSetting, c.Regime)]);
        return new ClaimOutcome
        {
            ClaimId = claim.Id, Statement = claim.Statement, Support = claim.Support, Kind = claim.Kind.Name, Profile = profile,
            Comparisons = tests.Comparisons, Correlations = tests.Correlations, Convergence = convergence, Bounds = tests.Bounds,
        };
    }

    /// <summary>The premise failures of <paramref name="claim"/> on the given sides (setting, regime), one sentence each.</summary>
    internal IReadOnlyList<string> CheckPremises(ClaimSpec claim, IReadOnlyList<(string Setting, string Regime)> sides) =>
        [.. claim.Premises.Select(p => CheckPremise(p, sides)).OfType<string>()];

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
    internal ComparisonOutcome Compare(string setting, string metric, string reference, string regime, string expected, string family,
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
    internal List<string> PooledRegimes(string setting, ClaimSpec claim) =>
        claim.Regimes.Count > 0 ? claim.Regimes.Append(claim.Reference).OfType<string>().ToList() : [.. settings[setting].Regimes];

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

    /// <summary>Each comparison's and correlation's verdict from its adjusted p: premise unmet when a premise fails;
    /// else reproduced, contradicted or inconclusive by <see cref="SignificantSign"/> (a claim of no effect that is
    /// not rejected says so).</summary>
    internal void DecideEachTest(ClaimSpec claim, ClaimOutcome outcome)
    {
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
    }

    /// <summary>The notes every kind's verdict carries: the tests not counted and why, the fits (train accuracy and
    /// loss of each side), and the estimators that did not converge.</summary>
    internal void AppendNotes(ClaimOutcome outcome, int premiseUnmet)
    {
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
