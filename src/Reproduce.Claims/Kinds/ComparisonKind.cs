using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// Each listed regime against the reference on one metric, in each setting, paired by seed (Wilcoxon signed-rank; the
/// paired permutation test over models for a per-group metric). The claim's verdict reads the tests' verdicts.
/// </summary>
public sealed class ComparisonKind : ClaimKind
{
    public override string Name => "comparison";
    public override string Description => "each regime vs the reference regime on one metric, paired by seed; the verdict reads the sign of a two-sided test";
    public override IReadOnlyList<string> Tests => ["wilcoxon-signed-rank", "model-permutation"];

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        if (claim.Metrics is not null && claim.Metrics.Count != 1) reader.Error("$.metrics", $"a {claim.KindName} claim names exactly one metric; found {claim.Metrics.Count}");
        CheckPairedTest(claim, reader);
        CheckRegimesListed(claim, reader);
    }

    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests)
    {
        foreach (var setting in claim.Settings)
            foreach (var regime in claim.Regimes)
                tests.Comparisons.Add(evaluator.Compare(setting, claim.Metrics[0], claim.Reference!, regime, claim.Direction, claim.Family));
    }

    /// <summary>
    /// The paired test of a comparison or best claim. A per-group metric's per-seed values share models (each is a mean
    /// over the other seeds), so they are no independent replicates for a paired test: such claims use the permutation
    /// test over models. In a best claim that also names per-run metrics, those are still tested with
    /// wilcoxon-signed-rank.
    /// </summary>
    internal static void CheckPairedTest(ClaimDraft claim, JsonReader reader)
    {
        bool perGroup = claim.PerGroup;
        if (claim.Test is not null && claim.Test != (perGroup ? "model-permutation" : "wilcoxon-signed-rank"))
            reader.Error("$.test", perGroup
                ? "a claim on a per-group metric (" + string.Join(", ", claim.Metrics!.Where(m => Metrics.MetricRegistry.Get(m).PerGroup)) + ") uses model-permutation: its per-seed values share models and are not independent replicates"
                : "comparison and best claims use wilcoxon-signed-rank (model-permutation only when a metric is per-group)");
    }

    /// <summary>A comparison or best claim lists the regimes it sets against the reference.</summary>
    internal static void CheckRegimesListed(ClaimDraft claim, JsonReader reader)
    {
        if (!claim.ListsRegimes(reader)) reader.Error("$.regimes", "required field is missing");
        else if (claim.Regimes.Count == 0) reader.Error("$.regimes", "must not be empty");
    }
}
