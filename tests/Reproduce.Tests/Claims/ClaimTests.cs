using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims;

/// <summary>
/// The claims are the test suite: one test per claim in claims/, at the default profile (10 seeds), against its reviewed
/// baseline in baselines/default/. The runs are trained once per session (<see cref="DefaultProfileSession"/>). In the
/// baseline's execution environment every per-seed value and statistic must agree to 1e-9 and every verdict and sign
/// exactly; elsewhere the statistical rule applies (same verdicts; effect inside its stored bootstrap interval). A
/// difference fails the test with a readable diff and writes &lt;claim&gt;.received.json beside the baseline;
/// `reproduce baselines accept` promotes it after review. `make test-fast` skips this category.
/// </summary>
[TestFixture, Category("Claim"), NonParallelizable]
public class ClaimTests
{
    private static IEnumerable<TestCaseData> Claims()
    {
        IReadOnlyList<ClaimSpec> claims;
        try
        {
            // The catalogue at the default profile: the claims and the cells of the sweeps (verdict maps) that run there.
            claims = Reproduce.Claims.ClaimSuite.LoadCatalogue(Repository.Path("claims"), DefaultProfileSession.Profile).Claims;
        }
        catch (SpecException) { claims = []; }
        if (claims.Count == 0) { yield return new TestCaseData("(claims folder)").SetName("Claims folder is valid and not empty"); yield break; }
        foreach (var c in claims.Where(c => c.RunsAt(DefaultProfileSession.Profile)))
            yield return new TestCaseData(c.Id).SetName(c.Id).SetCategory(DefaultProfileSession.Profile).SetDescription(c.Statement);
    }

    [TestCaseSource(nameof(Claims))]
    public void MatchesItsReviewedBaseline(string claimId)
    {
        var (session, error) = DefaultProfileSession.Get();
        Assert.That(error, Is.Null, $"the default profile could not complete: {error}");
        Assert.That(session!.Outcomes.TryGetValue(claimId, out var outcome), Is.True, $"no outcome for {claimId}");
        var check = new BaselineStore(Repository.Path("baselines")).Check(outcome!, session.Provenance.CodeVersion, session.Provenance.Environment);
        TestContext.Out.WriteLine($"{claimId}: {outcome!.Verdict} ({outcome.VerdictNote}); {check.Rule.ToString().ToLowerInvariant()} rule, environment {session.Provenance.Environment}");
        foreach (var c in outcome.Comparisons)
            TestContext.Out.WriteLine($"  {c.Setting} {c.Metric} {c.Regime} vs {c.Reference}: medians {c.RegimeMedian:g4} vs {c.ReferenceMedian:g4}, difference {c.MedianDifference:g4} [{c.MedianDifferenceLower:g4}, {c.MedianDifferenceUpper:g4}], r {c.RankBiserial:0.##}, p {c.P:0.####}, p adj {c.PAdjusted:0.####}: {c.Verdict}");
        foreach (var c in outcome.Correlations)
            TestContext.Out.WriteLine($"  {c.Setting} {c.X} ~ {c.Y}: tau {c.Tau:0.###} [{c.TauLower:0.###}, {c.TauUpper:0.###}], p {c.P:0.####}, p adj {c.PAdjusted:0.####}: {c.Verdict}");
        foreach (var b in outcome.Bounds)
            TestContext.Out.WriteLine($"  {b.Setting} {b.Metric} {b.Regime} in {b.Interval}: {string.Join(", ", b.Seeds.Select((seed, i) => $"{seed}: {b.Values[i]:R}"))}; outside: [{string.Join(" ", b.OutsideSeeds)}]: {b.Verdict}");
        if (check.Reviewed is null)
            Assert.Fail($"{claimId} has no reviewed baseline. Review {check.ReceivedPath} and accept it with `reproduce baselines accept {claimId} --review \"...\"`.");
        if (!check.Matches)
            Assert.Fail($"{claimId} differs from its reviewed baseline under the {check.Rule.ToString().ToLowerInvariant()} rule (new snapshot: {check.ReceivedPath}):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", check.Differences));
        Assert.That(outcome.Verdict, Is.EqualTo(check.Reviewed!.Verdict));
    }
}

/// <summary>
/// What the default profile's verdicts must satisfy whatever the science says: the negative controls (regimes that
/// differ by nothing but name and seeds) come out inconclusive, and the whole evaluator on the session's stored values
/// made null (signs flipped per seed, correlations permuted) keeps every family's false-positive rate at most alpha.
/// </summary>
[TestFixture, Category("Claim"), NonParallelizable]
public class EvaluatorControlTests
{
    [Test]
    public void NegativeControlsAreInconclusive()
    {
        var (session, error) = DefaultProfileSession.Get();
        Assert.That(error, Is.Null, $"the default profile could not complete: {error}");
        var controls = session!.Suite.AllClaims.Where(c => c.Family == "controls").ToList();
        Assert.That(controls, Has.Count.GreaterThanOrEqualTo(2), "at least two negative controls");
        foreach (var c in controls)
        {
            var o = session.Outcomes[c.Id];
            Assert.That(o.Verdict, Is.AnyOf(Reproduce.Claims.Evaluation.Verdicts.Inconclusive, Reproduce.Claims.Evaluation.Verdicts.PremiseUnmet), $"{c.Id}: {o.VerdictNote}");
        }
    }

    [Test]
    public void EveryFamilyKeepsItsFalsePositiveRateOnNullData()
    {
        var (session, error) = DefaultProfileSession.Get();
        Assert.That(error, Is.Null, $"the default profile could not complete: {error}");
        var rates = Reproduce.Claims.Evaluation.NullSimulation.Run([.. session!.Outcomes.Values], session.Suite.Options.Alpha, simulations: 1000);
        foreach (var r in rates) TestContext.Out.WriteLine($"{r.Family}: {r.Tests} tests, {r.WithAnyRejection} of {r.Simulations} null data sets with a rejection ({r.Rate:P1})");
        Assert.That(rates.Select(r => r.Family), Is.SupersetOf(new[] { "paper-sharpness", "paper-safety", "controls" }));
        Assert.That(rates.Where(r => r.Rate > session.Suite.Options.Alpha).Select(r => $"{r.Family} {r.Rate:P1}"), Is.Empty);
    }
}
