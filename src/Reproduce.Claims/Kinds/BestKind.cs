using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// The reference regime is best or tied-best on every listed metric: each rival regime against it, where a test's
/// expected direction is the metric's better direction (so "reproduced" reads "the rival beats it").
/// </summary>
public sealed class BestKind : ClaimKind
{
    public override string Name => "best";
    public override string Description => "the reference regime is best or tied-best on every listed metric (no other regime significantly better)";
    public override IReadOnlyList<string> Tests => ["wilcoxon-signed-rank", "model-permutation"];

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        ComparisonKind.CheckPairedTest(claim, reader);
        ComparisonKind.CheckRegimesListed(claim, reader);
        if (claim.Metrics is not null)
            for (int i = 0; i < claim.Metrics.Count; i++)
                if (MetricRegistry.Get(claim.Metrics[i]).Better is null) reader.Error($"$.metrics[{i}]", $"'{claim.Metrics[i]}' has no better direction, so no regime can be best on it");
    }

    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests)
    {
        foreach (var setting in claim.Settings)
            foreach (var metric in claim.Metrics)
            {
                // "Other regime better than the claimed one": expected direction = the metric's better direction.
                var better = MetricRegistry.Get(metric).Better!;
                foreach (var other in claim.Regimes)
                    tests.Comparisons.Add(evaluator.Compare(setting, metric, claim.Reference!, other, better, claim.Family));
            }
    }

    /// <summary>
    /// Comparisons here test "a rival is better than the claimed regime" (two-sided): significant in that direction, the
    /// rival beats it; significant the other way, the claimed regime beats the rival. Best = no rival significantly
    /// better, and the claimed regime significantly better than every rival in at least half of the (setting, metric)
    /// cells: only significant wins count (a tie is not a win).
    /// </summary>
    protected override void Summarise(ClaimSpec claim, ClaimOutcome outcome)
    {
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
}
