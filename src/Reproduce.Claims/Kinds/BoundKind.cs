using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// An exact or bounded result: every seed's value of each metric, in the reference regime of each setting, lies within
/// [AtLeast, AtMost]. No test and no p-value (so it joins no multiple-testing list): reproduced when all seeds are
/// inside, contradicted when any is outside.
/// </summary>
public sealed class BoundKind : ClaimKind
{
    public override string Name => "bound";
    public override string Description => "an exact or bounded result: every seed's value of each metric, in the reference regime, lies within [atLeast, atMost]; no test, no p-value";
    public override IReadOnlyList<string> Tests => [];
    public override bool HasDirectionAndTest => false;
    public override bool HoldsToInterval => true;

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        if (claim.Direction is not null) reader.Error("$.direction", "a bound claim has no direction: it holds every seed's value to [atLeast, atMost]");
        if (claim.Test is not null) reader.Error("$.test", "a bound claim has no statistical test: leave 'test' out");
        if (claim.Regimes.Count > 0) reader.Error("$.regimes", "a bound claim checks the one regime named by 'reference'; leave regimes out");
        if (claim.AtLeast is null && claim.AtMost is null) reader.Error("$", "a bound claim names atLeast, atMost or both");
        if (claim.AtLeast is { } lo && claim.AtMost is { } hi && lo > hi) reader.Error("$.atMost", $"{hi} is below atLeast {lo}: the interval is empty");
        if (claim.Family is not null && claim.Family != "exact") reader.Error("$.family", "a bound claim has no p-value, so it belongs to family 'exact' (no multiple-testing list)");
    }

    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests)
    {
        foreach (var setting in claim.Settings)
            tests.Bounds.AddRange(claim.Metrics.Select(metric => Bound(evaluator, setting, metric, claim)));
    }

    /// <summary>
    /// A (setting, metric): every seed's value in the claim's regime (diverged seeds dropped, and counted), with the
    /// premises checked on that regime's medians. The verdict is decided here, by no test: no value is no data, a missed
    /// premise is premise unmet, any seed outside [AtLeast, AtMost] is contradicted, all inside reproduced.
    /// </summary>
    private static BoundOutcome Bound(ClaimEvaluator evaluator, string setting, string metric, ClaimSpec claim)
    {
        var values = evaluator.Values(setting, claim.Reference!, metric, out int diverged);
        var seeds = values.Keys.Order().ToList();
        var outcome = new BoundOutcome
        {
            Setting = setting, Metric = metric, Regime = claim.Reference!, AtLeast = claim.AtLeast, AtMost = claim.AtMost,
            Seeds = seeds, Values = [.. seeds.Select(k => values[k])], DroppedSeeds = diverged,
        };
        outcome.PremiseFailures = evaluator.CheckPremises(claim, [(setting, claim.Reference!)]);
        outcome.Verdict = seeds.Count == 0 ? Verdicts.NoData
            : outcome.PremiseFailures.Count > 0 ? Verdicts.PremiseUnmet
            : outcome.OutsideSeeds.Count > 0 ? Verdicts.Contradicted : Verdicts.Reproduced;
        return outcome;
    }

    /// <summary>The claim's verdict from its (setting, metric) verdicts: no data when none has data, premise unmet when
    /// none counts, contradicted when any seed of any counted one is outside, else reproduced. The note names the
    /// offending seeds and their values.</summary>
    public override void Decide(ClaimEvaluator evaluator, ClaimSpec claim, ClaimOutcome outcome)
    {
        var real = outcome.Bounds.Where(b => Verdicts.Counts(b.Verdict)).ToList();
        outcome.Verdict = outcome.Bounds.All(b => b.Verdict == Verdicts.NoData) ? Verdicts.NoData
            : real.Count == 0 ? Verdicts.PremiseUnmet
            : real.Any(b => b.Verdict == Verdicts.Contradicted) ? Verdicts.Contradicted : Verdicts.Reproduced;
        var outside = real.Where(b => b.OutsideSeeds.Count > 0).ToList();
        outcome.VerdictNote = $"{real.Count(b => b.Verdict == Verdicts.Reproduced)} of {real.Count} (setting, metric) cells with every seed inside its interval"
            + (outside.Count == 0 ? "" : "; outside: " + string.Join("; ", outside.Select(b =>
                $"{b.Setting}/{b.Regime} {b.Metric} {b.Interval}: " + string.Join(", ", b.OutsideSeeds.Select(seed => FormattableString.Invariant($"seed {seed} {b.Values[b.Seeds.ToList().IndexOf(seed)]:R}"))))));
        var unmet = outcome.Bounds.SelectMany(b => b.PremiseFailures).Distinct().ToList();
        if (unmet.Count > 0) outcome.VerdictNote += $"; premise unmet: {string.Join("; ", unmet)}";
        var dropped = outcome.Bounds.Where(b => b.DroppedSeeds > 0).ToList();
        if (dropped.Count > 0) outcome.VerdictNote += "; diverged seeds without a value: " + string.Join(", ", dropped.Select(b => $"{b.Setting}/{b.Regime} {b.Metric} {b.DroppedSeeds}"));
    }

    /// <summary>A bound claim has no summary of tests: <see cref="Decide"/> is whole.</summary>
    protected override void Summarise(ClaimSpec claim, ClaimOutcome outcome) => throw new InvalidOperationException("a bound claim is decided whole");
}
