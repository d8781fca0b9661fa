namespace Reproduce.Claims.Evaluation;

/// <summary>Verdict words, shared by comparisons and claims.</summary>
public static class Verdicts
{
    public const string Reproduced = "reproduced", Contradicted = "contradicted", Inconclusive = "inconclusive",
        Partly = "partly reproduced", Mixed = "mixed", NoData = "no data";

    /// <summary>The runs miss a premise the claim states (e.g. a side short of 99% train accuracy): the test is reported,
    /// but counts neither as reproduced nor as contradicted in any summary.</summary>
    public const string PremiseUnmet = "premise unmet";

    /// <summary>A claim of no effect ("not positively correlated") whose opposite was not rejected: absence of evidence,
    /// not evidence of absence, so never counted as reproduced.</summary>
    public const string NotRejected = "not rejected";

    /// <summary>Comparison verdicts inside a "best" claim, where each comparison asks whether another regime beats the claimed one.</summary>
    public const string Beats = "beats the claimed regime", LosesTo = "worse than the claimed regime", Tie = "no significant difference";

    public static readonly IReadOnlyList<string> All = [Reproduced, Contradicted, Inconclusive, Partly, Mixed, NoData, PremiseUnmet, NotRejected, Beats, LosesTo, Tie];

    /// <summary>Verdicts that speak for or against a claim; "no data" and "premise unmet" do neither.</summary>
    public static bool Counts(string verdict) => verdict is not (NoData or PremiseUnmet);
}

/// <summary>
/// One paired comparison: a regime against the reference regime on a metric, within a setting, over the seeds both
/// have (diverged seeds dropped, and counted). <see cref="P"/> and <see cref="POpposite"/> are the one-sided p's in the
/// expected and the opposite direction; the test the verdict rests on is two-sided, <see cref="PTwoSided"/> =
/// min(1, 2 min(P, POpposite)), adjusted within the claim's multiple-testing family (Benjamini-Yekutieli as the paper;
/// Benjamini-Hochberg beside it). The verdict's direction is the side whose one-sided p is smaller.
/// </summary>
public sealed record ComparisonOutcome
{
    /// <summary>The setting, or for a condition claim "compared setting vs reference setting" (a label: read the sides below).</summary>
    public required string Setting { get; init; }
    public required string Metric { get; init; }
    public required string Reference { get; init; }
    public required string Regime { get; init; }
    /// <summary>The setting each side's runs come from (different only in a condition claim).</summary>
    public required string ReferenceSetting { get; init; }
    public required string RegimeSetting { get; init; }
    /// <summary>"higher" or "lower": what the claim expects of Regime relative to Reference.</summary>
    public required string Expected { get; init; }
    public required string Family { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public required IReadOnlyList<double> ReferenceValues { get; init; }
    public required IReadOnlyList<double> RegimeValues { get; init; }
    public int DroppedSeeds { get; init; }
    /// <summary>Seeds whose value on each side came from an estimator that reported it had not converged.</summary>
    public IReadOnlyList<int> UnconvergedReferenceSeeds { get; init; } = [];
    public IReadOnlyList<int> UnconvergedRegimeSeeds { get; init; } = [];
    /// <summary>Median final train accuracy (evaluation mode) of each side: are both at minima?</summary>
    public double ReferenceTrainAccuracy { get; init; } = double.NaN;
    public double RegimeTrainAccuracy { get; init; } = double.NaN;
    /// <summary>Median final train loss of each side (how well each fit converged; the only fit measure for regression).</summary>
    public double ReferenceTrainLoss { get; init; } = double.NaN;
    public double RegimeTrainLoss { get; init; } = double.NaN;
    public double ReferenceMedian { get; init; }
    public double RegimeMedian { get; init; }
    /// <summary>Median of the paired differences (regime - reference); its sign is the observed direction of the effect.
    /// For a per-group metric (tested over models), the permutation test's T = mean pairwise value within the regime -
    /// within the reference, with a bootstrap-over-seeds interval; <see cref="RankBiserial"/> is then NaN.</summary>
    public double MedianDifference { get; init; }
    /// <summary>+1, -1 or 0: the sign of <see cref="MedianDifference"/> (0 also when there is no data).</summary>
    public int Sign => double.IsNaN(MedianDifference) ? 0 : Math.Sign(MedianDifference);
    public double MedianDifferenceLower { get; init; }
    public double MedianDifferenceUpper { get; init; }
    public double RankBiserial { get; init; }
    /// <summary>95% seeded percentile bootstrap interval of <see cref="RankBiserial"/> over seeds (NaN for per-group metrics).</summary>
    public double RankBiserialLower { get; init; } = double.NaN;
    public double RankBiserialUpper { get; init; } = double.NaN;
    public bool Exact { get; init; }
    public double P { get; init; }
    public double POpposite { get; init; }
    /// <summary>min(1, 2 min(P, POpposite)): the two-sided p, the one that is adjusted and decides.</summary>
    public double PTwoSided => Statistics.TwoSided.FromOneSided(P, POpposite);
    /// <summary>Benjamini-Yekutieli adjusted <see cref="PTwoSided"/> within the family.</summary>
    public double PAdjusted { get; set; } = double.NaN;
    public double PAdjustedBh { get; set; } = double.NaN;
    /// <summary>The claim's premises this comparison's runs miss (each a sentence with the figures); empty when met.</summary>
    public IReadOnlyList<string> PremiseFailures { get; set; } = [];
    public string Verdict { get; set; } = Verdicts.Inconclusive;
}

/// <summary>Kendall tau between two metrics over runs of a setting: pooled, and within each regime (the Simpson's-paradox check).</summary>
public sealed record CorrelationOutcome
{
    public required string Setting { get; init; }
    public required string X { get; init; }
    public required string Y { get; init; }
    public required string Expected { get; init; }
    public required string Family { get; init; }
    public required int Runs { get; init; }
    public required double Tau { get; init; }
    public required double P { get; init; }
    public required double POpposite { get; init; }
    public required IReadOnlyDictionary<string, double> TauWithinRegime { get; init; }
    public required IReadOnlyList<CorrelationPoint> Points { get; init; }
    /// <summary>A trend claim's outcome: X is the level index, each point's <see cref="CorrelationPoint.Regime"/> is the
    /// setting it comes from (all in the claim's reference regime), and the exact within-seed test decides.</summary>
    public bool IsTrend { get; init; }
    /// <summary>Stratified (within-regime) Kendall test beside the pooled one: tau = sum S / sum denominators, two-sided p.
    /// Reported, not part of the verdict (the paper's claim is about the pooled minima).</summary>
    public double StratifiedTau { get; init; } = double.NaN;
    public double StratifiedP { get; init; } = double.NaN;
    /// <summary>95% percentile bootstrap interval of tau over runs (seeded).</summary>
    public double TauLower { get; init; } = double.NaN;
    public double TauUpper { get; init; } = double.NaN;
    /// <summary>min(1, 2 min(P, POpposite)), the two-sided p that is adjusted and decides.</summary>
    public double PTwoSided => Statistics.TwoSided.FromOneSided(P, POpposite);
    public double PAdjusted { get; set; } = double.NaN;
    public IReadOnlyList<string> PremiseFailures { get; set; } = [];
    public string Verdict { get; set; } = Verdicts.Inconclusive;

    /// <summary>A stronger-correlation claim's outcome: the rival metric, whose tau with Y is held against X's; null for
    /// every other kind. Then <see cref="P"/> and <see cref="POpposite"/> are the jackknife test's one-sided p's of
    /// <see cref="TauDifference"/> (not of <see cref="Tau"/>), and each point carries the rival's value.</summary>
    public string? Rival { get; init; }
    /// <summary>Pooled tau_b(rival, Y), and within each regime.</summary>
    public double RivalTau { get; init; } = double.NaN;
    public IReadOnlyDictionary<string, double> RivalTauWithinRegime { get; init; } = new Dictionary<string, double>();
    /// <summary>D = Tau - RivalTau, its delete-one jackknife standard error and a 95% seeded percentile bootstrap
    /// interval over runs.</summary>
    public double TauDifference { get; init; } = double.NaN;
    public double TauDifferenceStandardError { get; init; } = double.NaN;
    public double TauDifferenceLower { get; init; } = double.NaN;
    public double TauDifferenceUpper { get; init; } = double.NaN;
    /// <summary>The same difference within regimes (stratified taus: pairs across regimes never count) and its two-sided
    /// jackknife p. Reported beside the pooled test, which decides.</summary>
    public double StratifiedTauDifference { get; init; } = double.NaN;
    public double StratifiedDifferenceP { get; init; } = double.NaN;
}

/// <summary>One run in a correlation: its regime, seed and the two metrics (and, in a stronger-correlation claim, the
/// rival metric's value; NaN otherwise).</summary>
public sealed record CorrelationPoint(string Regime, int Seed, double X, double Y, double Rival = double.NaN);

/// <summary>
/// One (setting, metric) of a bound claim: every seed's value of the metric in the claim's regime, held to
/// [AtLeast, AtMost] (a null end is open). No test: inside for every seed is reproduced, any seed outside is
/// contradicted (<see cref="OutsideSeeds"/> names them), no value is no data; a missed premise is premise unmet.
/// </summary>
public sealed record BoundOutcome
{
    public required string Setting { get; init; }
    public required string Metric { get; init; }
    public required string Regime { get; init; }
    public double? AtLeast { get; init; }
    public double? AtMost { get; init; }
    /// <summary>The seeds with a value (diverged runs have none and are counted in <see cref="DroppedSeeds"/>), ascending.</summary>
    public required IReadOnlyList<int> Seeds { get; init; }
    public required IReadOnlyList<double> Values { get; init; }
    public int DroppedSeeds { get; init; }
    /// <summary>The seeds whose value lies outside the interval (NaN is outside).</summary>
    public IReadOnlyList<int> OutsideSeeds => [.. Seeds.Where((_, i) => !Inside(Values[i], AtLeast, AtMost))];
    public IReadOnlyList<string> PremiseFailures { get; set; } = [];
    public string Verdict { get; set; } = Verdicts.Inconclusive;

    /// <summary>lo &lt;= v &lt;= hi (an open end always holds); NaN is never inside.</summary>
    public static bool Inside(double v, double? lo, double? hi) => !double.IsNaN(v) && !(v < lo) && !(v > hi);

    /// <summary>The interval as text: "[1, 1.0001]", "&gt;= 10", "&lt;= 1e-05".</summary>
    public string Interval => (AtLeast, AtMost) switch
    {
        ({ } lo, { } hi) => FormattableString.Invariant($"[{lo:R}, {hi:R}]"),
        ({ } lo, null) => FormattableString.Invariant($">= {lo:R}"),
        (null, { } hi) => FormattableString.Invariant($"<= {hi:R}"),
        _ => "any",
    };
}

/// <summary>Did the reference regime reach the minima the claim is about? (Base's median final train accuracy and loss.)</summary>
public sealed record Convergence(string Setting, double BaseTrainAccuracy, double BaseTrainLoss, bool Converged);

public sealed record ClaimOutcome
{
    public required string ClaimId { get; init; }
    public required string Statement { get; init; }
    public required string Support { get; init; }
    public required string Kind { get; init; }
    public required string Profile { get; init; }
    public required IReadOnlyList<ComparisonOutcome> Comparisons { get; init; }
    public required IReadOnlyList<CorrelationOutcome> Correlations { get; init; }
    public required IReadOnlyList<Convergence> Convergence { get; init; }
    /// <summary>Bound claims: one per (setting, metric); empty for every other kind.</summary>
    public IReadOnlyList<BoundOutcome> Bounds { get; init; } = [];
    public string Verdict { get; set; } = Verdicts.Inconclusive;
    public string VerdictNote { get; set; } = "";
    public bool AllConverged => Convergence.All(c => c.Converged);
}
