using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Regimes;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims;

/// <summary>
/// Proof that the claim tests can fail. Each test takes the session's stored default-profile results, changes one
/// thing a regression could change — a claim's expected direction, the sign of its metric, one per-seed value, or the
/// whole effect — re-derives every verdict through the real evaluator (families and multiple-testing adjustment
/// included), and asserts that the baseline check then fails. The statistical rule is the weaker of the two (it is
/// what holds on another machine), so the science-level changes are checked under it; a perturbation of one value
/// below the statistical rule's resolution is checked under the exact rule. Cases: every claim whose reviewed
/// default verdict is not inconclusive.
/// </summary>
[TestFixture, Category("Claim"), NonParallelizable]
public class ClaimSensitivityTests
{
    // Verdicts that do not rest on the direction of an effect: nothing significant, no data, a premise the runs miss,
    // a null not rejected. Premise-unmet claims get their own case below (dropping the premise must move them).
    private static readonly string[] Undecided = [Verdicts.Inconclusive, Verdicts.NoData, Verdicts.PremiseUnmet, Verdicts.NotRejected];

    /// <summary>Every reviewed default baseline that reads (a corrupt one is reported by its claim test).</summary>
    private static IEnumerable<Baseline> ReviewedBaselines()
    {
        var folder = Repository.Path("baselines", DefaultProfileSession.Profile);
        if (!Directory.Exists(folder)) yield break;
        foreach (var file in Directory.GetFiles(folder, "*.json").Where(f => !f.EndsWith(".received.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            Baseline b;
            try { b = BaselineStore.ReadFile(file); }
            catch (SpecException) { continue; }
            yield return b;
        }
    }

    private static IEnumerable<Baseline> DecidedBaselines() => ReviewedBaselines().Where(b => !Undecided.Contains(b.Verdict));

    private static IEnumerable<TestCaseData> Decided() => DecidedBaselines().Select(b => new TestCaseData(b.Claim).SetName($"{{m}}({b.Claim})"));

    /// <summary>Bound claims (family "exact") have no direction, no reference side and no test: they get their own
    /// case, every value moved across its interval.</summary>
    private static bool IsBound(Baseline b) => b.Bounds is { Count: > 0 };

    private static IEnumerable<TestCaseData> DecidedStatistical() => DecidedBaselines().Where(b => !IsBound(b))
        .Select(b => new TestCaseData(b.Claim).SetName($"{{m}}({b.Claim})"));

    private static IEnumerable<TestCaseData> DecidedBound() => DecidedBaselines().Where(IsBound)
        .Select(b => new TestCaseData(b.Claim).SetName($"{{m}}({b.Claim})"));

    private static IEnumerable<TestCaseData> DecidedWithDirection() => DecidedBaselines().Where(b => !IsBound(b))
        .Where(b => b.Comparisons.Count == 0 || b.Comparisons.All(c => !c.Verdict.StartsWith("beats") && !c.Verdict.StartsWith("worse") && !c.Verdict.StartsWith("no significant")))
        .Select(b => new TestCaseData(b.Claim).SetName($"{{m}}({b.Claim})"));

    private static IEnumerable<TestCaseData> PremiseUnmet() => ReviewedBaselines().Where(b => b.Verdict == Verdicts.PremiseUnmet)
        .Select(b => new TestCaseData(b.Claim).SetName($"{{m}}({b.Claim})"));

    [TestCaseSource(nameof(PremiseUnmet))]
    public void DroppingThePremisesMovesAPremiseUnmetVerdict(string claimId)
    {
        // The premise check can fail: without the claim's premises the same values get a verdict of their own.
        var s = Session();
        var claims = s.Suite.AllClaims.Select(c => c.Id == claimId ? c with { Premises = [] } : c).ToList();
        Assert.That(s.Suite.AllClaims.Single(c => c.Id == claimId).Premises, Is.Not.Empty);
        AssertFails(Reviewed(claimId), Reevaluate(s, claimId, s.Results, claims), BaselineRule.Statistical, "premises dropped", mustMention: "verdict");
    }

    [Test]
    public void MostClaimsAreDecidedSoTheFlipTestsCoverThem()
    {
        // A guard for the guard: if every verdict became inconclusive, the sensitivity tests would have no cases.
        var decided = DecidedBaselines().Select(b => b.Claim).ToList();
        TestContext.Out.WriteLine($"{decided.Count} decided claims: {string.Join(", ", decided)}");
        Assert.That(decided, Has.Count.GreaterThanOrEqualTo(10));
    }

    private static DefaultProfileSession.Session Session()
    {
        var (session, error) = DefaultProfileSession.Get();
        Assert.That(error, Is.Null, $"the default profile could not complete: {error}");
        return session!;
    }

    private static Baseline Reviewed(string claim) => new BaselineStore(Repository.Path("baselines")).Read(DefaultProfileSession.Profile, claim)!;

    /// <summary>Re-evaluates one claim from <paramref name="results"/> with every member of its family (the evaluator's own
    /// contract: a selected claim's family is evaluated whole, so its adjustment is the full run's), and returns its snapshot.
    /// Only the family, not the whole catalogue: the outcome is the same, at a fraction of the cost per case.</summary>
    private static Baseline Reevaluate(DefaultProfileSession.Session s, string claim, ResultSnapshot results, IReadOnlyList<ClaimSpec>? claims = null)
    {
        var catalogue = claims ?? s.Suite.AllClaims;
        var outcomes = new ClaimEvaluator(results, s.Suite.Settings, DefaultProfileSession.Profile, s.Suite.Options.Alpha).Evaluate([catalogue.Single(c => c.Id == claim)], catalogue);
        return BaselineStore.FromOutcome(outcomes.Single(o => o.ClaimId == claim), s.Provenance.CodeVersion, s.Provenance.Environment);
    }

    private static void AssertFails(Baseline reviewed, Baseline now, BaselineRule rule, string what, string? mustMention = null)
    {
        var diffs = BaselineComparer.Differences(reviewed, now, rule);
        TestContext.Out.WriteLine($"{what}: {diffs.Count} difference(s) under the {rule} rule");
        foreach (var d in diffs.Take(12)) TestContext.Out.WriteLine($"  {d}");
        Assert.That(diffs, Is.Not.Empty, $"{reviewed.Claim}: {what} passed the {rule} baseline check");
        if (mustMention is not null) Assert.That(diffs, Has.Some.Contains(mustMention), $"{reviewed.Claim}: {what} changed no {mustMention}");
    }

    [Test]
    public void TheUnchangedResultsPassBothRules()
    {
        // The control for every test below: without the change, re-evaluating the stored values matches the baselines.
        var s = Session();
        var claims = s.Suite.AllClaims.Select(c => c.Id).Where(id => File.Exists(Repository.Path("baselines", DefaultProfileSession.Profile, $"{id}.json"))).ToList();
        Assert.That(claims, Is.Not.Empty);
        var outcomes = new ClaimEvaluator(s.Results, s.Suite.Settings, DefaultProfileSession.Profile, s.Suite.Options.Alpha).Evaluate(s.Suite.AllClaims);
        foreach (var id in claims)
        {
            var now = BaselineStore.FromOutcome(outcomes.Single(o => o.ClaimId == id), s.Provenance.CodeVersion, s.Provenance.Environment);
            Assert.That(BaselineComparer.Differences(Reviewed(id), now, BaselineRule.Statistical), Is.Empty, id);
        }
    }

    [TestCaseSource(nameof(DecidedWithDirection))]
    public void FlippingTheExpectedDirectionFailsTheCheck(string claimId)
    {
        var s = Session();
        var claims = s.Suite.AllClaims.Select(c => c.Id == claimId ? c with { Direction = Opposite(c.Direction) } : c).ToList();
        var now = Reevaluate(s, claimId, s.Results, claims);
        AssertFails(Reviewed(claimId), now, BaselineRule.Statistical, "expected direction flipped", mustMention: "verdict");
    }

    private static string Opposite(string direction) => direction switch
    {
        "higher" => "lower", "lower" => "higher", "positive" => "negative", "negative" => "positive", "not-positive" => "positive",
        _ => throw new ArgumentException($"no opposite of '{direction}'"),
    };

    /// <summary>Decided claims with a per-run metric: a per-group metric's verdict rests on the stored predictions (the
    /// permutation test over models), so negating its stored values moves only the descriptive medians; such claims are
    /// covered by the direction flip and by erasing the effect in the predictions.</summary>
    private static IEnumerable<TestCaseData> DecidedOnPerRunValues() => DecidedBaselines().Where(b => !IsBound(b))
        .Where(b => b.Comparisons.Count == 0 || b.Comparisons.Any(c => !Reproduce.Claims.Metrics.MetricRegistry.Get(c.Metric).PerGroup))
        .Select(b => new TestCaseData(b.Claim).SetName($"{{m}}({b.Claim})"));

    [TestCaseSource(nameof(DecidedOnPerRunValues))]
    public void NegatingTheClaimsMetricFailsTheCheck(string claimId)
    {
        var s = Session();
        var claim = s.Suite.AllClaims.Single(c => c.Id == claimId);
        // The metric(s) the claim is about; for a correlation only x, so the relation with y reverses.
        var negated = claim.Kind is BestKind ? claim.Metrics.ToHashSet() : [claim.Metrics[0]];
        var results = s.Results.WithMetrics(m => negated.Contains(m.Metric) ? m with { Value = -m.Value } : m);
        AssertFails(Reviewed(claimId), Reevaluate(s, claimId, results), BaselineRule.Statistical, $"{string.Join(", ", negated)} negated", mustMention: "verdict");
    }

    [TestCaseSource(nameof(DecidedBound))]
    public void MovingEveryValueAcrossItsBoundFailsTheCheck(string claimId)
    {
        // A bound claim's evidence is where its values lie: a reproduced claim's values moved outside the interval
        // (below atLeast, or above atMost when there is no lower end), a contradicted claim's moved inside it, must
        // each move the verdict.
        var s = Session();
        var outcome = s.Outcomes[claimId];
        Assert.That(outcome.Bounds, Is.Not.Empty);
        var replace = new Dictionary<(string RunKey, string Metric), double>();
        foreach (var b in outcome.Bounds)
        {
            double inside = (b.AtLeast, b.AtMost) switch
            {
                ({ } lo, { } hi) => (lo + hi) / 2, ({ } lo, null) => lo + Math.Abs(lo) + 1, (null, { } hi) => hi - Math.Abs(hi) - 1, _ => 0,
            };
            double outside = b.AtLeast is { } l ? l - Math.Abs(l) - 1 : b.AtMost!.Value + Math.Abs(b.AtMost.Value) + 1;
            double moved = outcome.Verdict == Verdicts.Reproduced ? outside : inside;
            foreach (var seed in b.Seeds) replace[(Key(s, b.Setting, b.Regime, seed), b.Metric)] = moved;
        }
        var results = s.Results.WithMetrics(m => replace.TryGetValue((m.RunKey, m.Metric), out var v) ? m with { Value = v } : m);
        AssertFails(Reviewed(claimId), Reevaluate(s, claimId, results), BaselineRule.Statistical, "every value moved across its bound", mustMention: "verdict");
    }

    [TestCaseSource(nameof(DecidedStatistical))]
    public void ErasingTheEffectFailsTheStatisticalCheck(string claimId)
    {
        var s = Session();
        var outcome = s.Outcomes[claimId];
        var replace = new Dictionary<(string RunKey, string Metric), double>();
        // A per-group metric is tested over models: its effect is erased in the stored predictions (each compared
        // model replaced by the reference model of its seed, so T = 0 and p = 1).
        var predictions = s.Results.Predictions.ToDictionary(p => p.Key, p => p.Value);
        foreach (var c in outcome.Comparisons)
        {
            for (int i = 0; i < c.Seeds.Count; i++)
            {
                replace[(Key(s, c.RegimeSetting, c.Regime, c.Seeds[i]), c.Metric)] = c.ReferenceValues[i];
                if (Reproduce.Claims.Metrics.MetricRegistry.Get(c.Metric).PerGroup
                    && predictions.TryGetValue(Key(s, c.ReferenceSetting, c.Reference, c.Seeds[i]), out var reference))
                    predictions[Key(s, c.RegimeSetting, c.Regime, c.Seeds[i])] = reference;
            }
        }
        foreach (var c in outcome.Correlations)
            foreach (var p in c.Points)
                if (c.IsTrend) replace[(Key(s, p.Regime, Claim(s, claimId).Reference!, p.Seed), c.Y)] = 1.0; // a trend's point: (setting, seed); constant y: S = 0
                else replace[(Key(s, c.Setting, p.Regime, p.Seed), c.X)] = 1.0; // constant x: tau 0
        var results = s.Results.WithMetrics(m => replace.TryGetValue((m.RunKey, m.Metric), out var v) ? m with { Value = v } : m) with { Predictions = predictions };
        AssertFails(Reviewed(claimId), Reevaluate(s, claimId, results), BaselineRule.Statistical, "effect erased (compared side set to the reference side)");
    }

    [TestCaseSource(nameof(Decided))]
    public void OnePerSeedValueMovedBeyondToleranceFailsTheExactCheck(string claimId)
    {
        var s = Session();
        var outcome = s.Outcomes[claimId];
        string key, metric;
        if (outcome.Comparisons.Count > 0)
        {
            var c = outcome.Comparisons[0];
            (key, metric) = (Key(s, c.RegimeSetting, c.Regime, c.Seeds[0]), c.Metric);
        }
        else if (outcome.Bounds.Count > 0)
        {
            var b = outcome.Bounds[0];
            (key, metric) = (Key(s, b.Setting, b.Regime, b.Seeds[0]), b.Metric);
        }
        else
        {
            var c = outcome.Correlations[0];
            (key, metric) = c.IsTrend ? (Key(s, c.Points[0].Regime, Claim(s, claimId).Reference!, c.Points[0].Seed), c.Y)
                : (Key(s, c.Setting, c.Points[0].Regime, c.Points[0].Seed), c.X);
        }
        // 1e-7 relative: a hundred times the exact rule's tolerance, far below any statistical resolution.
        var results = s.Results.WithMetrics(m => m.RunKey == key && m.Metric == metric ? m with { Value = m.Value * (1 + 1e-7) + 1e-300 } : m);
        AssertFails(Reviewed(claimId), Reevaluate(s, claimId, results), BaselineRule.Exact, $"one {metric} value scaled by 1 + 1e-7", mustMention: "seed");
    }

    private static ClaimSpec Claim(DefaultProfileSession.Session s, string claimId) => s.Suite.AllClaims.Single(c => c.Id == claimId);

    private static string Key(DefaultProfileSession.Session s, string setting, string regime, int seed) =>
        new RunSpec(setting, DefaultProfileSession.Profile, s.Suite.Settings[setting].For(DefaultProfileSession.Profile), RegimeRegistry.Get(regime), seed).Key;
}
