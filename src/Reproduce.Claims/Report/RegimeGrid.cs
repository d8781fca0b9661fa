using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Report;

/// <summary>One claim's test of a grid cell: which claim, in which multiple-testing family, with which verdict.</summary>
public sealed record RegimeGridTest(string ClaimId, string Family, string Verdict);

/// <summary>
/// One cell of the regime × measure grid: one (regime vs reference, metric) on one setting. The effect is a property of
/// the runs, so it is the same for every claim that tests the cell; the verdicts can differ, because each claim's p is
/// adjusted within its own family (a paper claim and the grid claim over the same runs), so every test is listed.
/// </summary>
public sealed record RegimeGridCell(string Row, string Metric, string Effect, string Detail, IReadOnlyList<RegimeGridTest> Tests)
{
    /// <summary>The cell's verdict: the tests' common verdict, or "mixed" when their families' adjustments disagree.</summary>
    public string Verdict => Tests.Select(t => t.Verdict).Distinct().Count() == 1 ? Tests[0].Verdict : Verdicts.Mixed;

    /// <summary>"reproduced", or "reproduced (c01-wd-fisher-rao), inconclusive (grid-regularisers-fisher-rao)" when they differ.</summary>
    public string VerdictText => Tests.Select(t => t.Verdict).Distinct().Count() == 1 ? Tests[0].Verdict
        : string.Join(", ", Tests.Select(t => $"{t.Verdict} ({t.ClaimId})"));
}

/// <summary>One table of the grid: a setting's regimes (rows, vs their reference) by the metrics of one side (sharpness
/// or safety) that some claim tests there.</summary>
public sealed record RegimeGridPanel(string Setting, MetricFamily Side, IReadOnlyList<string> Rows, IReadOnlyList<string> Metrics, IReadOnlyList<RegimeGridCell> Cells)
{
    public RegimeGridCell? At(string row, string metric) => Cells.FirstOrDefault(c => c.Row == row && c.Metric == metric);
}

/// <summary>
/// The regime × measure grid (issue 15.1): every comparison the catalogue's comparison claims test, laid out per setting
/// as regimes (rows) by measures (columns), split into sharpness and safety. Built from the outcomes only (the report
/// renders stored results); sweep cells are verdict maps and are left out. A cell no claim tests is empty, so the
/// holes of the grid show. Rows keep the setting's regime order, columns the metric registry's.
/// </summary>
public static class RegimeGrid
{
    public static IReadOnlyList<RegimeGridPanel> Build(IReadOnlyList<ClaimSpec> claims, IReadOnlyList<ClaimOutcome> outcomes, IReadOnlyDictionary<string, SettingSpec> settings)
    {
        var byId = claims.Where(c => c.Kind is Kinds.ComparisonKind && c.Cell is null).ToDictionary(c => c.Id);
        var tests = new List<(string Setting, string Row, string Regime, ComparisonOutcome Outcome, RegimeGridTest Test)>();
        foreach (var o in outcomes)
        {
            if (!byId.TryGetValue(o.ClaimId, out var claim)) continue;
            foreach (var c in o.Comparisons)
                tests.Add((c.Setting, c.Reference == "Base" ? c.Regime : $"{c.Regime} vs {c.Reference}", c.Regime, c, new RegimeGridTest(o.ClaimId, claim.Family, c.Verdict)));
        }
        var metricOrder = MetricRegistry.Names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var panels = new List<RegimeGridPanel>();
        foreach (var setting in tests.Select(t => t.Setting).Distinct().Order(StringComparer.Ordinal))
        {
            var regimeOrder = settings.TryGetValue(setting, out var spec) ? spec.Regimes.ToList() : [];
            int Rank(string regime) => regimeOrder.IndexOf(regime) is var i and >= 0 ? i : int.MaxValue;
            foreach (var side in new[] { MetricFamily.Sharpness, MetricFamily.Safety })
            {
                var here = tests.Where(t => t.Setting == setting && MetricRegistry.Get(t.Outcome.Metric).Family == side).ToList();
                if (here.Count == 0) continue;
                var rows = here.OrderBy(t => Rank(t.Regime)).ThenBy(t => t.Row, StringComparer.Ordinal).Select(t => t.Row).Distinct().ToList();
                var metrics = here.Select(t => t.Outcome.Metric).Distinct().OrderBy(m => metricOrder.GetValueOrDefault(m, int.MaxValue)).ToList();
                var cells = here.GroupBy(t => (t.Row, t.Outcome.Metric)).Select(g =>
                {
                    var c = g.First().Outcome;
                    string detail = $"medians {Format.Number(c.RegimeMedian)} vs {Format.Number(c.ReferenceMedian)}; train acc. {Format.Number(c.RegimeTrainAccuracy)} / {Format.Number(c.ReferenceTrainAccuracy)}; "
                        + string.Join("; ", g.Select(t => $"{t.Test.ClaimId} ({t.Test.Family}): p adj {Format.P(t.Outcome.PAdjusted)}, {t.Test.Verdict}"))
                        + (c.PremiseFailures.Count > 0 ? "; premise: " + string.Join("; ", c.PremiseFailures) : "");
                    return new RegimeGridCell(g.Key.Row, g.Key.Metric, Effect(c), detail, [.. g.Select(t => t.Test)]);
                }).ToList();
                panels.Add(new RegimeGridPanel(setting, side, rows, metrics, cells));
            }
        }
        return panels;
    }

    /// <summary>"+38% (r 0.9)": the median paired difference regime - reference over |reference median|, with the
    /// rank-biserial r, both signed as measured (+ = the regime's value is higher), not in a claim's direction: claims
    /// with opposite directions can test the same cell, and the colour already says whether each claim holds.</summary>
    public static string Effect(ComparisonOutcome c)
    {
        string share = c.ReferenceMedian == 0 || double.IsNaN(c.MedianDifference) ? $"Δ {Format.Number(c.MedianDifference)}"
            : (c.MedianDifference / Math.Abs(c.ReferenceMedian)).ToString("+0.#%;-0.#%;0%", System.Globalization.CultureInfo.InvariantCulture);
        return double.IsNaN(c.RankBiserial) ? share : $"{share} (r {c.RankBiserial.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)})";
    }
}
