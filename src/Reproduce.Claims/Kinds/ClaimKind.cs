using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// What a claim asserts and how it is tested: one object per kind (comparison, best, correlation, ...), in one file,
/// registered by one line in <see cref="ClaimKinds"/>. A kind owns everything that differs between kinds: the file
/// rules a claim of that kind must meet (<see cref="Check"/>), the tests it produces (<see cref="Evaluate"/>), and how
/// its tests make one verdict (<see cref="Summarise"/>, or all of <see cref="Decide"/>). The loader, the schema, `list`,
/// the plan and the report read kinds from the registry, so a new kind needs no edit elsewhere; what all kinds share
/// (the paired signed-rank comparison, premises, the family adjustment, the verdict notes) stays in
/// <see cref="ClaimEvaluator"/>.
/// </summary>
public abstract class ClaimKind
{
    /// <summary>The name claim files give in "kind", e.g. "stronger-correlation".</summary>
    public abstract string Name { get; }

    /// <summary>One sentence for `list kinds` and the schema: what a claim of this kind asserts.</summary>
    public abstract string Description { get; }

    /// <summary>The statistical tests (<see cref="ClaimSpec.Tests"/>) a claim of this kind may name; empty for a kind
    /// without a test. A test owned by exactly one kind is refused on every other kind with that owner's name.</summary>
    public abstract IReadOnlyList<string> Tests { get; }

    /// <summary>The values "direction" may take.</summary>
    public virtual IReadOnlyList<string> Directions => Specs.Directions.Comparison;

    /// <summary>Whether a claim of this kind names a direction and a test (a bound claim has neither).</summary>
    public virtual bool HasDirectionAndTest => true;

    /// <summary>Whether the claim holds values to its own [atLeast, atMost] (a bound claim); only such a claim may give
    /// them, and only such claims make family 'exact' (which has no multiple-testing list).</summary>
    public virtual bool HoldsToInterval => false;

    /// <summary>Whether "reference" is required.</summary>
    public virtual bool RequiresReference => true;

    /// <summary>Whether a claim that lists no regimes pools every regime its settings train (<see cref="Runner.RunPlan"/>).</summary>
    public virtual bool PoolsEveryRegime => false;

    /// <summary>Whether the claim's settings are ordered levels of one condition (the first the reference), so a sweep
    /// cell must keep all of them.</summary>
    public virtual bool OrdersSettings => false;

    /// <summary>The cross-field rules of this kind, reported with the file and the JSON path; the rules every claim
    /// meets (names, the reference's regimes, premises) are the loader's.</summary>
    internal abstract void Check(ClaimDraft claim, JsonReader reader);

    /// <summary>This kind's tests of <paramref name="claim"/>, added to <paramref name="tests"/>; a correlation or a
    /// bound is added with its premises checked (the evaluator checks every comparison's on its two sides).</summary>
    public abstract void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests);

    /// <summary>One pooled correlation per setting, from <paramref name="correlate"/>, with the premises checked on
    /// every regime it pools (a correlation over runs of several regimes is only as good as its worst-fitted one).</summary>
    protected static void AddPooledCorrelations(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests, Func<string, CorrelationOutcome> correlate)
    {
        foreach (var setting in claim.Settings)
        {
            var correlation = correlate(setting);
            correlation.PremiseFailures = evaluator.CheckPremises(claim, [.. correlation.Points.Select(q => q.Regime).Distinct().Select(r => (setting, r))]);
            tests.Correlations.Add(correlation);
        }
    }

    /// <summary>The claim's verdict once its family is adjusted: each test's verdict, then one for the claim, then the
    /// notes every kind shares. A kind without tests overrides it whole.</summary>
    public virtual void Decide(ClaimEvaluator evaluator, ClaimSpec claim, ClaimOutcome outcome)
    {
        evaluator.DecideEachTest(claim, outcome);
        int premiseUnmet = outcome.Comparisons.Count(c => c.Verdict == Verdicts.PremiseUnmet) + outcome.Correlations.Count(c => c.Verdict == Verdicts.PremiseUnmet);
        Summarise(claim, outcome);
        evaluator.AppendNotes(outcome, premiseUnmet);
    }

    /// <summary>
    /// One verdict from the tests' verdicts: no data when none has data; premise unmet when none counts; reproduced when
    /// all that count are; mixed when some are reproduced and some contradicted; contradicted; partly reproduced; not
    /// rejected (a claim of no effect); else inconclusive.
    /// </summary>
    protected virtual void Summarise(ClaimSpec claim, ClaimOutcome outcome)
    {
        var verdicts = outcome.Comparisons.Select(c => c.Verdict).Concat(outcome.Correlations.Select(c => c.Verdict)).ToList();
        if (verdicts.Count == 0 || verdicts.All(v => v == Verdicts.NoData)) { outcome.Verdict = Verdicts.NoData; return; }
        var real = verdicts.Where(Verdicts.Counts).ToList();
        bool any(string v) => real.Contains(v);
        outcome.Verdict = real.Count == 0 ? Verdicts.PremiseUnmet
            : real.All(v => v == Verdicts.Reproduced) ? Verdicts.Reproduced
            : any(Verdicts.Contradicted) && any(Verdicts.Reproduced) ? Verdicts.Mixed
            : any(Verdicts.Contradicted) ? Verdicts.Contradicted
            : any(Verdicts.Reproduced) ? Verdicts.Partly
            : real.All(v => v == Verdicts.NotRejected) ? Verdicts.NotRejected
            : Verdicts.Inconclusive;
        outcome.VerdictNote = $"{real.Count(v => v == Verdicts.Reproduced)} reproduced, {real.Count(v => v == Verdicts.Contradicted)} contradicted, "
            + $"{real.Count(v => v is Verdicts.Inconclusive or Verdicts.NotRejected)} not significant of {real.Count}";
    }

    public override string ToString() => Name;
}

/// <summary>
/// The claim kinds by name, in the order the schema and error messages list them. A new kind is one class deriving
/// from <see cref="ClaimKind"/> and one line here.
/// </summary>
public static class ClaimKinds
{
    public static readonly IReadOnlyList<ClaimKind> All =
    [
        new ComparisonKind(),
        new BestKind(),
        new CorrelationKind(),
        new ConditionKind(),
        new BoundKind(),
        new TrendKind(),
        new StrongerCorrelationKind(),
    ];

    /// <summary>Every kind's name, in registry order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(k => k.Name)];

    /// <summary>The kind a claim file names, or null.</summary>
    public static ClaimKind? Find(string? name) => All.FirstOrDefault(k => k.Name == name);

    /// <summary>The kind of that name; an unknown name lists the valid ones.</summary>
    public static ClaimKind Get(string name) => Find(name) ?? throw new ArgumentException($"Unknown claim kind '{name}'. Valid: {string.Join(", ", Names)}.");
}

/// <summary>The tests a kind produces for one claim, before the family adjustment.</summary>
public sealed class ClaimTests
{
    public List<ComparisonOutcome> Comparisons { get; } = [];
    public List<CorrelationOutcome> Correlations { get; } = [];
    public List<BoundOutcome> Bounds { get; } = [];
}

/// <summary>A claim file's fields as read, before the cross-field rules: any may be null where the file was wrong.</summary>
internal sealed record ClaimDraft(
    System.Text.Json.JsonElement Root, string? KindName, IReadOnlyList<string>? Settings, IReadOnlyList<string>? Metrics, string? Reference,
    IReadOnlyList<string> Regimes, string? Direction, string? Test, string? Family, double? AtLeast, double? AtMost)
{
    /// <summary>Whether any metric is per-group (its per-seed values share models).</summary>
    public bool PerGroup => Metrics is not null && Metrics.Any(m => Reproduce.Claims.Metrics.MetricRegistry.Get(m).PerGroup);

    /// <summary>Whether the file has a "regimes" field at all.</summary>
    public bool ListsRegimes(JsonReader reader) => reader.Get(Root, "$", "regimes", false) is not null;
}
