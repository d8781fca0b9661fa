namespace Reproduce.Claims.Specs;

/// <summary>The three shapes of claim the suite checks.</summary>
public enum ClaimKind
{
    /// <summary>Each treatment regime vs the reference regime on a metric, paired by seed; the verdict reads the sign of a two-sided test.</summary>
    Comparison,
    /// <summary>One regime is best or tied-best on every listed metric (no other regime significantly better).</summary>
    Best,
    /// <summary>Kendall tau between two metrics over runs, pooled over regimes and within each regime.</summary>
    Correlation,
    /// <summary>Each later setting vs the first one (e.g. a tighter ring, noisier labels), same regime, paired by seed.</summary>
    Condition,
    /// <summary>An exact or bounded result: every seed's value of each metric, in the reference regime of each setting,
    /// lies within [AtLeast, AtMost]. No test and no p-value (so it joins no multiple-testing list): reproduced when all
    /// seeds are inside, contradicted when any is outside.</summary>
    Bound,
    /// <summary>A monotone trend of one metric over ordered settings (e.g. ring factors, label-noise levels), in the
    /// reference regime: Kendall's S between level and value within each seed, summed over seeds, exact (the values of
    /// a seed exchangeable over its levels under the null); direction "positive" = the metric rises along the listed
    /// settings. Reported as a correlation (level ~ metric) whose points are (setting, seed, level index, value).</summary>
    Trend,
    /// <summary>One metric orders the pooled runs by a third more strongly than a rival metric does: metrics [x, rival, y],
    /// D = tau_b(x, y) - tau_b(rival, y) over the same runs, pooled over regimes (the test: the delete-one jackknife of
    /// D, <see cref="Statistics.KendallTauDifference"/>) and within each regime (reported); direction "positive" =
    /// D &gt; 0 (x more positively correlated with y than the rival), "negative" = D &lt; 0.</summary>
    StrongerCorrelation,
}

/// <summary>The names claim files give the kinds (claims' "kind" field), one per <see cref="ClaimKind"/>.</summary>
public static class ClaimKindNames
{
    private static readonly Dictionary<ClaimKind, string> Names = new()
    {
        [ClaimKind.Comparison] = "comparison", [ClaimKind.Best] = "best", [ClaimKind.Correlation] = "correlation", [ClaimKind.Condition] = "condition",
        [ClaimKind.Bound] = "bound", [ClaimKind.Trend] = "trend", [ClaimKind.StrongerCorrelation] = "stronger-correlation",
    };

    /// <summary>Every kind's name, in the enum's order.</summary>
    public static readonly IReadOnlyList<string> All = [.. Enum.GetValues<ClaimKind>().Select(k => Names[k])];

    /// <summary>The file name of a kind, e.g. "stronger-correlation".</summary>
    public static string Name(this ClaimKind kind) => Names[kind];

    /// <summary>The kind a claim file names, or null.</summary>
    public static ClaimKind? Parse(string? name) => Names.FirstOrDefault(kv => kv.Value == name) is { Value: not null } kv ? kv.Key : null;
}

/// <summary>The expected direction: for comparisons "higher"/"lower"; for correlations "positive", "negative", "not-positive".</summary>
public static class Directions
{
    public static readonly IReadOnlyList<string> Comparison = ["higher", "lower"];
    public static readonly IReadOnlyList<string> Correlation = ["positive", "negative", "not-positive"];
    /// <summary>A trend: "positive" = the metric rises along the listed settings, "negative" = it falls.</summary>
    public static readonly IReadOnlyList<string> Trend = ["positive", "negative"];
    /// <summary>A stronger-correlation claim: "positive" = tau(x, y) - tau(rival, y) &gt; 0, "negative" = &lt; 0.</summary>
    public static readonly IReadOnlyList<string> StrongerCorrelation = ["positive", "negative"];
}

public sealed record ClaimSource(string Paper, string Location, int? ProtocolClaim);

/// <summary>One claim, as read and validated from claims/&lt;id&gt;.json.</summary>
public sealed record ClaimSpec
{
    public static readonly IReadOnlyList<string> Supports = ["strong", "moderate", "weak", "none"];

    /// <summary>The ids of claims and sweeps: lower-case letters, digits and dashes (they name files and prefix cell ids).</summary>
    public static bool IsValidId(string id) => System.Text.RegularExpressions.Regex.IsMatch(id, "^[a-z0-9][a-z0-9-]*$");
    /// <summary>wilcoxon-signed-rank: paired by seed over per-run values; model-permutation: the paired permutation test
    /// over models for per-group metrics, whose per-seed values share models (Statistics.ModelPermutationTest);
    /// kendall-tau: correlations; kendall-tau-difference: two dependent taus sharing y, by the jackknife
    /// (Statistics.KendallTauDifference).</summary>
    public static readonly IReadOnlyList<string> Tests = ["wilcoxon-signed-rank", "kendall-tau", "model-permutation", "kendall-tau-difference"];

    public required string Id { get; init; }
    public required string File { get; init; }
    public required string Statement { get; init; }
    public required ClaimSource Source { get; init; }
    public required ClaimKind Kind { get; init; }
    public required IReadOnlyList<string> Settings { get; init; }
    /// <summary>Comparison: the reference regime. Best: the regime claimed best. Condition: the regime every setting trains.</summary>
    public string? Reference { get; init; }
    /// <summary>Comparison: regimes compared with the reference. Best/Correlation: the regimes taking part.</summary>
    public IReadOnlyList<string> Regimes { get; init; } = [];
    /// <summary>Comparison and best: metrics; correlation: [x, y]; stronger correlation: [x, rival, y].</summary>
    public required IReadOnlyList<string> Metrics { get; init; }
    /// <summary>Comparison and correlation claims: the expected direction. Empty for a bound claim.</summary>
    public required string Direction { get; init; }
    /// <summary>The statistical test; empty for a bound claim (it has none).</summary>
    public required string Test { get; init; }
    /// <summary>Bound claims: the interval [AtLeast, AtMost] every seed's value must lie in (either end may be open).</summary>
    public double? AtLeast { get; init; }
    public double? AtMost { get; init; }
    /// <summary>The multiple-testing family (<see cref="ClaimFamilies"/>).</summary>
    public required string Family { get; init; }
    public required string Support { get; init; }
    /// <summary>What the runs must meet for the test to mean what the statement says (<see cref="Premise"/>).</summary>
    public IReadOnlyList<Premise> Premises { get; init; } = [];
    /// <summary>The profiles this claim runs at; null = every profile. A claim too costly for the default profile's
    /// budget (CI trains it) runs at nightly only. A family's members at a profile are the claims that run there, so
    /// membership still never depends on a run's --filter.</summary>
    public IReadOnlyList<string>? Profiles { get; init; }

    /// <summary>Whether the claim runs at <paramref name="profile"/>.</summary>
    public bool RunsAt(string profile) => Profiles is null || Profiles.Contains(profile);
    public string Notes { get; init; } = "";
    /// <summary>Set on a sweep's cell (<see cref="SweepLoader.Expand"/>): which sweep, catalogue claim and axis values it
    /// is. Null for the catalogue's own claims.</summary>
    public SweepCell? Cell { get; init; }
}
