using NUnit.Framework;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Report;
using Reproduce.Claims.Specs;

namespace Reproduce.Tests.Claims.Report;

/// <summary>
/// The regime × measure grid (issue 15.1) is a layout of the outcomes: what must hold is that every comparison of every
/// catalogue comparison claim lands in exactly one cell (setting, regime vs reference, metric), split into sharpness and
/// safety, in the setting's regime order; that two claims over the same runs share a cell and each keeps its verdict
/// (their families adjust differently); that the effect is signed as measured, not in a claim's direction; and that
/// sweep cells and other kinds stay out.
/// </summary>
[TestFixture]
public class RegimeGridTests
{
    private static ClaimSpec Claim(string id, string family, ClaimKind? kind = null, SweepCell? cell = null) => new()
    {
        Id = id, File = $"{id}.json", Statement = id, Source = new ClaimSource("p", "l", null), Kind = kind ?? ClaimKinds.Get("comparison"), Settings = ["s"],
        Reference = "Base", Regimes = ["WD"], Metrics = ["fisher_rao"], Direction = "higher", Test = "wilcoxon-signed-rank",
        Family = family, Support = "none", Cell = cell,
    };

    private static ComparisonOutcome Comparison(string regime, string metric, string verdict, string expected = "higher", string reference = "Base",
        double referenceMedian = 2, double medianDifference = 0.5, double r = 0.8) => new()
    {
        Setting = "s", Metric = metric, Reference = reference, Regime = regime, ReferenceSetting = "s", RegimeSetting = "s", Expected = expected,
        Family = "f", Seeds = [0, 1], ReferenceValues = [1, 2], RegimeValues = [2, 3], ReferenceMedian = referenceMedian,
        RegimeMedian = referenceMedian + medianDifference, MedianDifference = medianDifference, RankBiserial = r, P = 0.01, POpposite = 0.99,
        PAdjusted = 0.02, Verdict = verdict,
    };

    private static ClaimOutcome Outcome(string id, params ComparisonOutcome[] comparisons) => new()
    {
        ClaimId = id, Statement = id, Support = "none", Kind = "comparison", Profile = "default", Comparisons = comparisons, Correlations = [], Convergence = [],
    };

    private static readonly IReadOnlyDictionary<string, SettingSpec> Settings = new Dictionary<string, SettingSpec>
    {
        ["s"] = new() { Name = "s", File = "s.json", Regimes = ["Base", "WD", "SAM", "WD+SAM", "GAM"], Profiles = new Dictionary<string, SettingProfile>() },
    };

    [Test]
    public void EachComparisonLandsInOneCellAndClaimsOverTheSameRunsShareIt()
    {
        var claims = new[] { Claim("paper", "paper-sharpness"), Claim("grid", "grid-sharpness"), Claim("acc", "grid-safety"), Claim("vs-sam", "related-work") };
        var outcomes = new[]
        {
            // Listed against the setting's regime order: the grid must restore it (WD, SAM, WD+SAM).
            Outcome("grid", Comparison("WD+SAM", "fisher_rao", Verdicts.Inconclusive), Comparison("SAM", "hessian_trace", Verdicts.Contradicted),
                Comparison("WD", "fisher_rao", Verdicts.Inconclusive)),
            Outcome("paper", Comparison("WD", "fisher_rao", Verdicts.Reproduced)),
            Outcome("acc", Comparison("WD", "ece", Verdicts.Reproduced, expected: "lower", medianDifference: -0.5, r: -1)),
            Outcome("vs-sam", Comparison("GAM", "hessian_top_eigenvalue", Verdicts.Reproduced, expected: "lower", reference: "SAM", medianDifference: -1, r: -0.6)),
        };
        var panels = RegimeGrid.Build(claims, outcomes, Settings);

        Assert.That(panels.Select(p => p.Side), Is.EqualTo(new[] { MetricFamily.Sharpness, MetricFamily.Safety }), "one table per side");
        var sharpness = panels[0];
        Assert.That(sharpness.Rows, Is.EqualTo(new[] { "WD", "SAM", "WD+SAM", "GAM vs SAM" }), "the setting's regime order; a non-Base reference named");
        Assert.That(sharpness.Metrics, Is.EqualTo(MetricRegistry.Names.Where(new[] { "fisher_rao", "hessian_trace", "hessian_top_eigenvalue" }.Contains)), "the registry's order");
        Assert.That(sharpness.Cells, Has.Count.EqualTo(4), "one cell per (regime vs reference, metric), however many claims test it");

        var shared = sharpness.At("WD", "fisher_rao")!;
        Assert.That(shared.Tests.Select(t => (t.ClaimId, t.Family, t.Verdict)), Is.EquivalentTo(new[]
            { ("grid", "grid-sharpness", Verdicts.Inconclusive), ("paper", "paper-sharpness", Verdicts.Reproduced) }));
        Assert.That(shared.Verdict, Is.EqualTo(Verdicts.Mixed), "families that disagree are shown as such");
        Assert.That(shared.VerdictText, Does.Contain("reproduced (paper)").And.Contain("inconclusive (grid)"));
        Assert.That(sharpness.At("SAM", "hessian_trace")!.Verdict, Is.EqualTo(Verdicts.Contradicted));
        Assert.That(sharpness.At("SAM", "fisher_rao"), Is.Null, "a cell no claim tests stays empty");

        // Signed as measured: 0.5 over a reference median of 2 is +25%, whatever the claim expects; -0.5 is -25% with r -1.
        Assert.That(shared.Effect, Is.EqualTo("+25% (r 0.8)"));
        Assert.That(panels[1].At("WD", "ece")!.Effect, Is.EqualTo("-25% (r -1)"));
        Assert.That(sharpness.At("GAM vs SAM", "hessian_top_eigenvalue")!.Effect, Is.EqualTo("-50% (r -0.6)"));
    }

    [Test]
    public void SweepCellsAndOtherKindsStayOut()
    {
        var cell = new SweepCell("v1", "paper", [("epochs", 3.0)]);
        var claims = new[] { Claim("paper", "paper-sharpness"), Claim("v1.paper@epochs=3", "v1", cell: cell), Claim("best", "paper-safety", ClaimKinds.Get("best")) };
        var outcomes = new[]
        {
            Outcome("paper", Comparison("WD", "fisher_rao", Verdicts.Reproduced)),
            Outcome("v1.paper@epochs=3", Comparison("WD", "fisher_rao", Verdicts.Contradicted)),
            Outcome("best", Comparison("WD", "test_accuracy", Verdicts.Beats)),
            Outcome("unknown", Comparison("SAM", "fisher_rao", Verdicts.Reproduced)),
        };
        var panels = RegimeGrid.Build(claims, outcomes, Settings);
        Assert.That(panels, Has.Count.EqualTo(1));
        Assert.That(panels[0].Cells.Single().Tests.Select(t => t.ClaimId), Is.EqualTo(new[] { "paper" }));
    }
}
