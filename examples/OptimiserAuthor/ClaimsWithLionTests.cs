using NUnit.Framework;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace OptimiserAuthor;

/// <summary>
/// The claims with Lion as NUnit tests: one per claim named in expected-verdicts.json (the example's own claims and the
/// paper's claims re-run with Lion), each failing when its verdict differs from the reviewed expectation; and the
/// moved-verdicts table against the suite's reviewed baselines. The runs are trained once per session
/// (<see cref="LionClaimsSession"/>, about half a minute at the smoke profile). Category "Claim", as the suite's claim
/// tests: `make test` runs them, `make test-fast` skips them.
/// </summary>
[TestFixture, Category("Claim"), Category("OptimiserAuthor"), NonParallelizable]
public class ClaimsWithLionTests
{
    public static string ExpectedFile => Example.Path("expected-verdicts.json");

    // Read at discovery, before the set-up fixture has registered Lion: only the file, no claim or setting.
    private static IEnumerable<TestCaseData> Expectations()
    {
        ExpectedVerdicts expected;
        try { expected = ExpectedVerdicts.Load(ExpectedFile); }
        catch (SpecException e) { return [new TestCaseData("(expected-verdicts.json)", e.Message).SetName("Expected verdicts file is valid")]; }
        return expected.Verdicts.Select(p => new TestCaseData(p.Key, p.Value).SetName($"{p.Key} is {p.Value}"));
    }

    [TestCaseSource(nameof(Expectations))]
    public void VerdictIsAsReviewed(string claim, string expected)
    {
        Assert.That(ExpectedVerdicts.Load(ExpectedFile).Profile, Is.EqualTo(LionClaimsSession.Profile), $"{ExpectedFile}: $.profile");
        var (session, error) = LionClaimsSession.Get();
        Assert.That(error, Is.Null, $"the claims with Lion could not be run: {error}");
        var outcome = session!.Outcome(claim);
        Assert.That(outcome, Is.Not.Null, $"{ExpectedFile} expects '{claim}', which the example does not run (its own claims/ and {nameof(LionClaimsSession)}.{nameof(LionClaimsSession.PaperClaims)})");
        TestContext.Out.WriteLine($"{claim}: {outcome!.Verdict} ({outcome.VerdictNote})");
        foreach (var c in outcome.Comparisons)
            TestContext.Out.WriteLine($"  {c.Setting} {c.Metric} {c.Regime} vs {c.Reference}: medians {c.RegimeMedian:g4} vs {c.ReferenceMedian:g4} " +
                $"(train accuracy {c.RegimeTrainAccuracy:0.###} vs {c.ReferenceTrainAccuracy:0.###}), r {c.RankBiserial:0.##}, p {c.PTwoSided:0.####}, p adj {c.PAdjusted:0.####}: {c.Verdict}");
        Assert.That(outcome.Verdict, Is.EqualTo(expected),
            $"{claim}: the verdict with Lion is '{outcome.Verdict}', the reviewed expectation in {ExpectedFile} '{expected}'. Review it, then update the file.");
    }

    [Test]
    public void EveryClaimRunHasAReviewedExpectation()
    {
        var (session, error) = LionClaimsSession.Get();
        Assert.That(error, Is.Null, $"the claims with Lion could not be run: {error}");
        var run = session!.OwnOutcomes.Concat(session.PaperOutcomes).Select(o => o.ClaimId);
        Assert.That(ExpectedVerdicts.Load(ExpectedFile).Verdicts.Keys, Is.EquivalentTo(run), $"the claims in {ExpectedFile} and the claims the example runs");
    }

    /// <summary>
    /// The author's report: for each paper claim re-run with Lion, the suite's reviewed verdict (SGD) and the new one.
    /// It fails only when a paper claim has no reviewed baseline to compare with (a moved verdict is what the
    /// expectations above judge).
    /// </summary>
    [Test]
    public void MovedVerdictsAgainstTheReviewedBaselines()
    {
        var (session, error) = LionClaimsSession.Get();
        Assert.That(error, Is.Null, $"the claims with Lion could not be run: {error}");
        TestContext.Out.WriteLine(File.ReadAllText(session!.TablePath));
        foreach (var m in session.Moves.Where(m => m.Moved)) TestContext.Out.WriteLine($"{m.Claim}: {m.Reviewed} -> {m.Verdict}: {m.VerdictNote}");
        Assert.That(session.Moves.Select(m => m.Claim), Is.EquivalentTo(LionClaimsSession.PaperClaims));
        Assert.That(session.Moves.Where(m => m.Reviewed is null).Select(m => m.Claim), Is.Empty, "paper claims without a reviewed baseline to compare with");
    }
}
