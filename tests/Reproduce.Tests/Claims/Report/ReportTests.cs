using Reproduce.Claims.Evaluation;
using AngleSharp.Html.Parser;
using NUnit.Framework;
using Reproduce.Claims.Report;
using Reproduce.Claims.Store;
using Reproduce.Tests.Claims.Runner;

namespace Reproduce.Tests.Claims.Report;

[TestFixture, Category("RealData"), NonParallelizable]
public class ReportTests
{
    [Test]
    public void PlotsHaveAFont()
    {
        // ScottPlot writes PNGs with every label missing, and no error, when it finds no font (fonts-dejavu-core).
        Assert.That(Plots.FontAvailable, Is.True, "no font for the plots: install fonts-dejavu-core");
    }

    [Test]
    public void EveryClaimHasItsRowAndEveryFigureItsImage()
    {
        using var tiny = new TinySuite();
        var suite = tiny.Load();
        using var store = suite.OpenStore();
        suite.Execute(suite.Plan(), store);
        var outcomes = suite.Evaluate(store);
        var html = new HtmlReport(suite, suite.Results(store)).Render(outcomes, new Dictionary<string, string> { ["t1-wd"] = "inconclusive" },
            Provenance.Capture(tiny.Root, "cpu", 2, "smoke"));
        var document = new HtmlParser().ParseDocument(html);
        var rows = document.QuerySelectorAll("tr[data-claim]").Select(r => r.GetAttribute("data-claim")).ToList();
        Assert.That(rows, Is.EquivalentTo(outcomes.Select(o => o.ClaimId)));
        var figures = document.QuerySelectorAll("figure[data-figure]").ToList();
        var kinds = figures.Select(f => f.GetAttribute("data-figure")!.Split(':')[0]).Distinct().ToList();
        Assert.That(kinds, Is.SupersetOf(new[] { "scatter", "box", "curves", "spectrum" }));
        foreach (var figure in figures)
        {
            var img = figure.QuerySelector("img");
            Assert.That(img, Is.Not.Null, figure.GetAttribute("data-figure"));
            var src = img!.GetAttribute("src")!;
            Assert.That(src, Does.StartWith("data:image/png;base64,"));
            var bytes = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
            Assert.That(bytes.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG");
            Assert.That(bytes.Length, Is.GreaterThan(2000));
        }
        Assert.That(document.QuerySelector("tr[data-claim='t1-wd']")!.TextContent, Does.Contain("fisher_rao").And.Contain("moderate"));

        // The forest plot comes first, one row per comparison with a verdict; the families table lists its members.
        var forest = document.QuerySelector("svg#forest");
        Assert.That(forest, Is.Not.Null);
        Assert.That(html.IndexOf("id=\"forest\"", StringComparison.Ordinal), Is.LessThan(html.IndexOf("id=\"verdicts\"", StringComparison.Ordinal)), "the first figure");
        var marks = forest!.QuerySelectorAll("g[data-claim]").ToList();
        Assert.That(marks, Has.Count.EqualTo(outcomes.Sum(o => o.Comparisons.Count(c => !double.IsNaN(c.MedianDifference) && c.ReferenceMedian != 0))));
        Assert.That(marks.Select(m => m.GetAttribute("data-verdict")).Distinct(), Is.SubsetOf(Verdicts.All));
        Assert.That(document.QuerySelectorAll("#families tr[data-family]"), Is.Not.Empty);

        // The regime × measure grid: one cell per distinct (setting, regime vs reference, metric) of the comparison claims.
        var expectedCells = outcomes.Where(o => o.Kind == "comparison").SelectMany(o => o.Comparisons).Select(c => (c.Setting, c.Regime, c.Reference, c.Metric)).Distinct().Count();
        Assert.That(expectedCells, Is.GreaterThan(0));
        Assert.That(document.QuerySelectorAll("table.grid td[data-grid-cell]"), Has.Length.EqualTo(expectedCells));
    }
}
