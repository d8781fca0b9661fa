using System.Text.Json.Serialization;
using Reproduce.Claims.Store;

namespace Reproduce.Claims.Baselines;

/// <summary>A closed interval [lower, upper] (NaN bounds: no interval, e.g. no data).</summary>
public sealed record Interval(double Lower, double Upper)
{
    public static readonly Interval None = new(double.NaN, double.NaN);
    [JsonIgnore] public bool IsNone => double.IsNaN(Lower) || double.IsNaN(Upper);
    public bool Contains(double v) => v >= Lower && v <= Upper;
    [JsonIgnore] public bool ExcludesZero => !IsNone && (Lower > 0 || Upper < 0);
    public override string ToString() => IsNone ? "[none]" : $"[{Lower:g6}, {Upper:g6}]";
}

/// <summary>
/// One paired comparison as reviewed: what was compared, the per-seed values of both sides, and every statistic the
/// verdict was derived from (so a re-run can be held to them exactly, or by the statistical rule).
/// </summary>
public sealed record BaselineComparison
{
    public required string Setting { get; init; }
    public required string Metric { get; init; }
    public required string Reference { get; init; }
    public required string Regime { get; init; }
    /// <summary>"higher" / "lower": what the claim expects of Regime relative to Reference.</summary>
    public required string Expected { get; init; }
    public required string Verdict { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public required IReadOnlyList<double> ReferenceValues { get; init; }
    public required IReadOnlyList<double> RegimeValues { get; init; }
    public required double ReferenceMedian { get; init; }
    public required double RegimeMedian { get; init; }
    /// <summary>Median of the paired differences, regime - reference.</summary>
    public required double MedianDifference { get; init; }
    /// <summary>Sign of the median difference: the observed direction (+1 higher, -1 lower, 0 none).</summary>
    public required int Sign { get; init; }
    /// <summary>95% seeded bootstrap interval of the median difference.</summary>
    public required Interval MedianDifferenceInterval { get; init; }
    public required double RankBiserial { get; init; }
    /// <summary>95% seeded bootstrap interval of the rank-biserial effect over seeds (none for per-group metrics).</summary>
    public Interval RankBiserialInterval { get; init; } = Interval.None;
    public required double P { get; init; }
    public required double POpposite { get; init; }
    /// <summary>min(1, 2 min(P, POpposite)); <see cref="PAdjusted"/> is its Benjamini-Yekutieli adjustment within the family.</summary>
    public required double PTwoSided { get; init; }
    public required double PAdjusted { get; init; }
    /// <summary>Seeds whose value came from an estimator that reported no convergence (reference side, regime side).</summary>
    public IReadOnlyList<int> UnconvergedReferenceSeeds { get; init; } = [];
    public IReadOnlyList<int> UnconvergedRegimeSeeds { get; init; } = [];
    [JsonIgnore] public string Key => $"{Setting}/{Metric}/{Regime} vs {Reference}";
}

/// <summary>One run of a correlation; <see cref="Rival"/> is the rival metric's value in a stronger-correlation claim
/// (null, and not written, otherwise).</summary>
public sealed record BaselinePoint(string Regime, int Seed, double X, double Y, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Rival = null);

/// <summary>One correlation as reviewed: every run's (x, y), tau with its bootstrap interval, and the p-values.</summary>
public sealed record BaselineCorrelation
{
    public required string Setting { get; init; }
    public required string X { get; init; }
    public required string Y { get; init; }
    public required string Expected { get; init; }
    public required string Verdict { get; init; }
    public required double Tau { get; init; }
    public required Interval TauInterval { get; init; }
    public required double P { get; init; }
    public required double POpposite { get; init; }
    /// <summary>min(1, 2 min(P, POpposite)); <see cref="PAdjusted"/> is its Benjamini-Yekutieli adjustment within the family.</summary>
    public required double PTwoSided { get; init; }
    public required double PAdjusted { get; init; }
    public required IReadOnlyList<BaselinePoint> Points { get; init; }
    /// <summary>A stronger-correlation claim's rival metric, its tau and the difference D = Tau - RivalTau with its
    /// jackknife standard error (P and POpposite are then D's); null, and not written, for other kinds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Rival { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? RivalTau { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TauDifference { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TauDifferenceStandardError { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Interval? TauDifferenceInterval { get; init; }
    [JsonIgnore] public string Key => Rival is null ? $"{Setting}/{X}~{Y}" : $"{Setting}/{X} vs {Rival}~{Y}";
}

/// <summary>
/// One (setting, metric) of a bound claim as reviewed: the interval, every seed's value and the seeds outside. Exact
/// rule: the values to <see cref="BaselineComparer.RelativeTolerance"/>; statistical rule: the verdict and the seeds.
/// </summary>
public sealed record BaselineBound
{
    public required string Setting { get; init; }
    public required string Metric { get; init; }
    public required string Regime { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? AtLeast { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? AtMost { get; init; }
    public required string Verdict { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public required IReadOnlyList<double> Values { get; init; }
    public required IReadOnlyList<int> OutsideSeeds { get; init; }
    [JsonIgnore] public string Key => $"{Setting}/{Metric}/{Regime} in {(AtLeast is { } lo ? lo.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "-inf")}..{(AtMost is { } hi ? hi.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "inf")}";
}

/// <summary>
/// A reviewed snapshot of one claim at one profile (baselines/&lt;profile&gt;/&lt;claim&gt;.json): the verdict, each
/// comparison with its per-seed values and statistics, the code version and execution environment it was recorded
/// in, and the reviewer's note.
/// </summary>
public sealed record Baseline
{
    public const string FormatName = "reproduce-baseline/3";
    public string Format { get; init; } = FormatName;
    public required string Claim { get; init; }
    public required string Profile { get; init; }
    public required string Verdict { get; init; }
    public string VerdictNote { get; init; } = "";
    public string Review { get; init; } = "";
    /// <summary>`git describe --always --dirty` of the code that produced the numbers ("-dirty": uncommitted changes).</summary>
    public string CodeVersion { get; init; } = "";
    /// <summary>Where the numbers were produced; equal environments give equal bits, so the exact rule applies.</summary>
    public required ExecutionEnvironment Environment { get; init; }
    public required IReadOnlyList<BaselineComparison> Comparisons { get; init; }
    public required IReadOnlyList<BaselineCorrelation> Correlations { get; init; }
    /// <summary>Bound claims' cells; null (and not written) for every other kind, so their files are unchanged.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<BaselineBound>? Bounds { get; init; }
}
