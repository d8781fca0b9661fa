using Reproduce.Claims.Kinds;

namespace Reproduce.Claims.Specs;

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
    /// <summary>What the claim asserts and how it is tested (<see cref="ClaimKinds"/>).</summary>
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
