using System.Text;
using Reproduce.Claims.Evaluation;

namespace Reproduce.Claims.Report;

/// <summary>The verdict table as Markdown, for a terminal, a pull request or a review.</summary>
public static class MarkdownReport
{
    /// <param name="maps">The verdict maps of the sweeps (<see cref="VerdictMaps.Build"/>): a grid per swept test, after the
    /// tables; the sweep cells' own outcomes are left out of the tables (their ids in <paramref name="cells"/>).</param>
    public static string Render(IReadOnlyList<ClaimOutcome> all, IReadOnlyDictionary<string, string> baselineVerdicts, string profile, string provenance,
        IReadOnlyList<VerdictMapPanel>? maps = null, IReadOnlySet<string>? cells = null, IReadOnlyList<RegimeGridPanel>? grid = null)
    {
        var outcomes = cells is null ? all : all.Where(o => !cells.Contains(o.ClaimId)).ToList();
        var s = new StringBuilder();
        s.AppendLine($"# Reproduce: claims at profile `{profile}`");
        s.AppendLine();
        s.AppendLine($"{outcomes.Count(o => o.Verdict == Verdicts.Reproduced)} reproduced, {outcomes.Count(o => o.Verdict == Verdicts.Contradicted)} contradicted, "
            + $"{outcomes.Count(o => o.Verdict is Verdicts.Partly or Verdicts.Mixed)} partly or mixed, {outcomes.Count(o => o.Verdict == Verdicts.Inconclusive)} inconclusive, "
            + $"{outcomes.Count(o => o.Verdict == Verdicts.NoData)} without data, of {outcomes.Count} claims. Provenance: {provenance}");
        s.AppendLine();
        s.AppendLine("| claim | paper's support | verdict | baseline verdict | Base train acc. (loss) | note |");
        s.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var o in outcomes)
            s.AppendLine($"| {o.ClaimId} | {o.Support} | **{o.Verdict}** | {baselineVerdicts.GetValueOrDefault(o.ClaimId, "none")} | "
                + $"{string.Join(", ", o.Convergence.Select(c => double.IsNaN(c.BaseTrainAccuracy) ? $"{c.Setting} loss {Format.Number(c.BaseTrainLoss)}" : $"{c.Setting} {Format.Number(c.BaseTrainAccuracy)} (loss {Format.Number(c.BaseTrainLoss)})"))} | {o.VerdictNote} |");
        s.AppendLine();
        s.AppendLine("## Comparisons");
        s.AppendLine();
        s.AppendLine("Wilcoxon signed-rank over seeds (paired by seed); effect = rank-biserial r with its 95% bootstrap interval over seeds; Δ = median paired difference with its 95% bootstrap interval; for disagreement and JS divergence (per-group metrics, whose per-seed values share models) the paired permutation test over models instead: Δ = T = mean pairwise value within the regime - within the reference, 95% bootstrap-over-seeds interval, no r; p = one-sided in the expected direction; p two-sided = min(1, 2 min(p, p opposite)); p adj = Benjamini–Yekutieli of the two-sided p within the family (the paper's adjustment), BH beside it. Significant (p adj ≤ alpha) in the expected direction is reproduced, the other way contradicted: the same evidence either way. 'premise unmet' rows count neither way. In a 'best' claim each row asks whether the regime beats the claimed one (the reference).");
        s.AppendLine();
        s.AppendLine("| claim | setting | metric | regime vs ref. | expected | ref. median | regime median | Δ [95% CI] | r [95% CI] | n | p | p two-sided | p adj (BY) | p adj (BH) | train acc. (regime / ref.) | verdict |");
        s.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var o in outcomes)
            foreach (var c in o.Comparisons)
                s.AppendLine($"| {o.ClaimId} | {c.Setting} | {c.Metric} | {c.Regime} vs {c.Reference} | {c.Expected} | {Format.Number(c.ReferenceMedian)} | {Format.Number(c.RegimeMedian)} | "
                    + $"{Format.Number(c.MedianDifference)} [{Format.Number(c.MedianDifferenceLower)}, {Format.Number(c.MedianDifferenceUpper)}] | {(double.IsNaN(c.RankBiserial) ? "" : $"{Format.Number(c.RankBiserial)} [{Format.Number(c.RankBiserialLower)}, {Format.Number(c.RankBiserialUpper)}]")} | {c.Seeds.Count}{(c.DroppedSeeds > 0 ? $" ({c.DroppedSeeds} diverged)" : "")} | "
                    + $"{Format.P(c.P)} | {Format.P(c.PTwoSided)} | {Format.P(c.PAdjusted)} | {Format.P(c.PAdjustedBh)} | {(double.IsNaN(c.RegimeTrainAccuracy) ? $"loss {Format.Number(c.RegimeTrainLoss)} / {Format.Number(c.ReferenceTrainLoss)}" : $"{Format.Number(c.RegimeTrainAccuracy)} / {Format.Number(c.ReferenceTrainAccuracy)}")} | {c.Verdict} |");
        var cors = outcomes.SelectMany(o => o.Correlations.Select(c => (o.ClaimId, c))).ToList();
        if (cors.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("## Correlations (Kendall tau-b, pooled and within regime)");
            s.AppendLine();
            s.AppendLine("| claim | setting | x | y | runs | pooled tau | p (expected) | p adj | within regimes | stratified tau (p two-sided) | verdict |");
            s.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var (id, c) in cors.Where(t => t.c.Rival is null))
                s.AppendLine($"| {id} | {c.Setting} | {c.X} | {c.Y} | {c.Runs} | {Format.Number(c.Tau)} | {Format.P(c.P)} | {Format.P(c.PAdjusted)} | "
                    + $"{string.Join(", ", c.TauWithinRegime.Select(p => $"{p.Key} {Format.Number(p.Value)}"))} | {Format.Number(c.StratifiedTau)} ({Format.P(c.StratifiedP)}) | {c.Verdict} |");
        }
        var contrasts = cors.Where(t => t.c.Rival is not null).ToList();
        if (contrasts.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("## Stronger correlations (D = tau(x, y) - tau(rival, y), jackknife over runs)");
            s.AppendLine();
            s.AppendLine("| claim | setting | x | rival | y | runs | tau x / rival (pooled) | D ± jackknife SE [bootstrap 95%] | p (expected) | p adj | within regimes, x / rival | D within regimes (p two-sided) | verdict |");
            s.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var (id, c) in contrasts)
                s.AppendLine($"| {id} | {c.Setting} | {c.X} | {c.Rival} | {c.Y} | {c.Runs} | {Format.Number(c.Tau)} / {Format.Number(c.RivalTau)} | "
                    + $"{Format.Number(c.TauDifference)} ± {Format.Number(c.TauDifferenceStandardError)} [{Format.Number(c.TauDifferenceLower)}, {Format.Number(c.TauDifferenceUpper)}] | {Format.P(c.P)} | {Format.P(c.PAdjusted)} | "
                    + $"{string.Join(", ", c.TauWithinRegime.Select(p => $"{p.Key} {Format.Number(p.Value)} / {Format.Number(c.RivalTauWithinRegime.GetValueOrDefault(p.Key, double.NaN))}"))} | "
                    + $"{Format.Number(c.StratifiedTauDifference)} ({Format.P(c.StratifiedDifferenceP)}) | {c.Verdict} |");
        }
        var bounds = outcomes.SelectMany(o => o.Bounds.Select(b => (o.ClaimId, b))).ToList();
        if (bounds.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("## Bounds (every seed's value held to an interval; no test, no p-value)");
            s.AppendLine();
            s.AppendLine("| claim | setting | regime | metric | interval | values by seed | seeds outside | verdict |");
            s.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var (id, b) in bounds)
                s.AppendLine($"| {id} | {b.Setting} | {b.Regime} | {b.Metric} | {b.Interval} | {string.Join(", ", b.Seeds.Select((seed, i) => $"{seed}: {b.Values[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"))} | "
                    + $"{(b.OutsideSeeds.Count == 0 ? "none" : string.Join(" ", b.OutsideSeeds))} | {b.Verdict} |");
        }
        if (grid is { Count: > 0 }) s.Append(Grid(grid));
        if (maps is { Count: > 0 }) s.Append(Maps(maps));
        return s.ToString();
    }

    /// <summary>The regime × measure grid (<see cref="RegimeGrid"/>): per setting, one table of sharpness and one of safety
    /// metrics, each cell the verdict(s) of the claims that test it and the measured effect.</summary>
    public static string Grid(IReadOnlyList<RegimeGridPanel> grid)
    {
        var s = new StringBuilder();
        s.AppendLine();
        s.AppendLine("## Regime × measure grid");
        s.AppendLine();
        s.AppendLine("Every comparison the claims test, per setting: regimes against Base (or the named reference) by measure. Each cell: the verdict (each claim's, with its id, where their families' adjustments disagree), then the median paired difference regime - reference as a share of the reference median and the rank-biserial r, signed as measured (+ = the regime's value is higher). An empty cell is one no claim tests.");
        foreach (var panel in grid)
        {
            s.AppendLine();
            s.AppendLine($"**{panel.Setting}, {(panel.Side == Metrics.MetricFamily.Sharpness ? "sharpness" : "safety")}**");
            s.AppendLine();
            s.AppendLine($"| regime | {string.Join(" | ", panel.Metrics)} |");
            s.AppendLine($"| --- | {string.Join(" | ", panel.Metrics.Select(_ => "---"))} |");
            foreach (var row in panel.Rows)
                s.AppendLine($"| {row} | {string.Join(" | ", panel.Metrics.Select(m => panel.At(row, m) is { } cell ? $"{cell.VerdictText} {cell.Effect}" : ""))} |");
        }
        return s.ToString();
    }

    /// <summary>The verdict maps as Markdown: the "## Verdict maps" section, one grid per swept test (what the report
    /// ends with, and what `reproduce sweep` prints).</summary>
    public static string Maps(IReadOnlyList<VerdictMapPanel> maps)
    {
        var s = new StringBuilder();
        s.AppendLine();
        s.AppendLine("## Verdict maps");
        s.AppendLine();
        s.AppendLine("Each swept claim over a grid of budgets (claims/sweeps/): a cell is the claim re-run and re-tested on copies of its settings with the cell's values (its own runs, premise check and baseline; one multiple-testing family per sweep). Each cell: verdict, and the median paired difference in the claimed direction as a share of the reference median (+ = as the claim says) with the rank-biserial r. * = the catalogue setting's own budget.");
        foreach (var panel in maps)
        {
            s.AppendLine();
            s.AppendLine($"**{panel.Sweep}: {panel.Claim}**: {panel.Test}");
            s.AppendLine();
            var columns = panel.ColumnAxis is null ? [(double?)null] : panel.Columns.Select(c => (double?)c).ToList();
            s.AppendLine($"| {(panel.ColumnAxis is null ? panel.RowAxis : $"{panel.RowAxis} \\ {panel.ColumnAxis}")} | {string.Join(" | ", columns.Select(c => c is { } v ? VerdictMaps.AxisValue(v) : "verdict"))} |");
            s.AppendLine($"| --- | {string.Join(" | ", columns.Select(_ => "---"))} |");
            foreach (var row in panel.Rows)
                s.AppendLine($"| {VerdictMaps.AxisValue(row)} | {string.Join(" | ", columns.Select(c => panel.At(row, c) is { } cell ? $"{cell.Verdict} {cell.Effect}{(cell.IsCatalogueSetting ? " *" : "")}" : "no data"))} |");
        }
        return s.ToString();
    }
}
