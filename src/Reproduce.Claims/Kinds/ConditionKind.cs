using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// A harder condition (a tighter ring, noisier labels) against the first setting: the reference regime in each later
/// setting against itself in the first, paired by seed.
/// </summary>
public sealed class ConditionKind : ClaimKind
{
    public override string Name => "condition";
    public override string Description => "each later setting vs the first one (e.g. a tighter ring, noisier labels), same regime, paired by seed";
    public override IReadOnlyList<string> Tests => ["wilcoxon-signed-rank"];
    public override bool OrdersSettings => true;

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        if (claim.Metrics is not null && claim.Metrics.Count != 1) reader.Error("$.metrics", $"a {claim.KindName} claim names exactly one metric; found {claim.Metrics.Count}");
        if (claim.Settings is not null && claim.Settings.Count < 2) reader.Error("$.settings", "a condition claim compares at least two settings: [reference, compared...]");
        if (claim.Regimes.Count > 0) reader.Error("$.regimes", "a condition claim compares settings within the one regime named by 'reference'; leave regimes out");
        if (claim.Test is not null && claim.Test != "wilcoxon-signed-rank") reader.Error("$.test", "condition claims use wilcoxon-signed-rank");
        if (claim.PerGroup) reader.Error("$.metrics", "a per-group metric compares models on the same test points; a condition claim's settings do not share them");
    }

    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests)
    {
        foreach (var other in claim.Settings.Skip(1))
            tests.Comparisons.Add(evaluator.Compare(claim.Settings[0], claim.Metrics[0], claim.Reference!, claim.Reference!, claim.Direction, claim.Family, other));
    }
}
