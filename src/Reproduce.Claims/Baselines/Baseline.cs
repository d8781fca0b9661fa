namespace Reproduce.Claims.Baselines;

/// <summary>[lower, upper] band a reviewed number may move within before a run counts as a regression.</summary>
public sealed record Band(double Lower, double Upper)
{
    public bool Contains(double v) => v >= Lower && v <= Upper;
    public override string ToString() => $"[{Lower:g4}, {Upper:g4}]";
}

public sealed record BaselineComparison(string Setting, string Metric, string Reference, string Regime, string Verdict,
    double ReferenceMedian, double RegimeMedian, double RankBiserial, double P, double PAdjusted, Band ReferenceBand, Band RegimeBand)
{
    [System.Text.Json.Serialization.JsonIgnore] public string Key => $"{Setting}/{Metric}/{Regime} vs {Reference}";
}

public sealed record BaselineCorrelation(string Setting, string X, string Y, string Verdict, double Tau, Band TauBand)
{
    [System.Text.Json.Serialization.JsonIgnore] public string Key => $"{Setting}/{X}~{Y}";
}

/// <summary>
/// A reviewed snapshot of one claim at one profile (baselines/&lt;profile&gt;/&lt;claim&gt;.json): the verdict, each
/// comparison's verdict, medians with tolerance bands, effect size and p-values, and the reviewer's note.
/// </summary>
public sealed record Baseline
{
    public const string FormatName = "reproduce-baseline/1";
    public string Format { get; init; } = FormatName;
    public required string Claim { get; init; }
    public required string Profile { get; init; }
    public required string Verdict { get; init; }
    public string Review { get; init; } = "";
    public string CodeVersion { get; init; } = "";
    public required IReadOnlyList<BaselineComparison> Comparisons { get; init; }
    public required IReadOnlyList<BaselineCorrelation> Correlations { get; init; }
}
