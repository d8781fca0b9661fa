using System.Net;
using System.Text;
using System.Text.Json;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;
using Reproduce.Claims.Store;
using Reproduce.Measurement.Spectral;

namespace Reproduce.Claims.Report;

/// <summary>
/// A self-contained HTML page (plots embedded as PNG data URIs): the verdict table (one row per claim, with the
/// paper's support and the baseline verdict), the comparisons with medians, effect size, raw and adjusted p, and the
/// figures: each sharpness measure against the generalisation gap and test accuracy coloured by regime with
/// within-regime and pooled trend lines (the paper's Figure 1 and the Simpson's-paradox check), per-regime box plots
/// of every metric, training curves, and the Hessian spectral density per regime (seed 0's, stored by `run`).
/// <para>It renders stored results only: no checkpoint, data set or tensor is touched. Runs are read through
/// <see cref="PlannedResults"/>, the evaluator's plan-keyed table: the figures show the stored runs under the keys of
/// the suite's plan (<see cref="ClaimSuite.Plan"/>), so a run stored for another recipe, seed count or profile in a
/// reused store never appears. The families table's false-positive rates (<see cref="NullSimulation"/>) are computed
/// here, but only as seeded statistics on the outcomes' stored per-seed values.</para>
/// </summary>
public sealed class HtmlReport(ClaimSuite suite, PlannedResults results)
{
    public string Render(IReadOnlyList<ClaimOutcome> all, IReadOnlyDictionary<string, string> baselineVerdicts, Provenance provenance)
    {
        // Sweep cells are drawn as verdict maps (below), not as rows, forest-plot lines and per-setting figures.
        var cellIds = suite.AllClaims.Where(c => c.Cell is not null).Select(c => c.Id).ToHashSet();
        var outcomes = all.Where(o => !cellIds.Contains(o.ClaimId)).ToList();
        string profile = suite.Options.Profile;
        // The plan's (setting, regime) pairs in its order (setting, regime, ordinal), each with its stored runs in seed order.
        var runs = suite.Plan().Runs.Select(r => (r.Setting, Regime: r.Regime.Name)).Distinct()
            .SelectMany(g => results.Runs(g.Setting, g.Regime)).ToList();
        var metrics = runs.ToDictionary(r => r.Key, r => results.MetricsOf(r.Key).ToDictionary(m => m.Key, m => m.Value.Value));
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Reproduce report: ").Append(E(profile)).Append("</title><style>")
         .Append("body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}")
         .Append("th{background:#f3f3f3}.reproduced{background:#d9f2d9}.contradicted{background:#f7d4d4}.inconclusive{background:#f4f4dc}.mixed,.partly{background:#e6e0f5}.premise,.not{background:#e8e8e8}")
         .Append("figure{display:inline-settingProfile;margin:0.5em}figcaption{font-size:85%;max-width:640px}.warn{color:#a00}</style></head><body>");
        h.Append("<h1>Reproduce: claims at profile <code>").Append(E(profile)).Append("</code></h1>");
        h.Append("<p>Code ").Append(E(provenance.CodeVersion)).Append(", TorchSharp ").Append(E(provenance.TorchSharpVersion)).Append(", ").Append(E(provenance.Device))
         .Append(", ").Append(provenance.Threads).Append(" threads, ").Append(runs.Count).Append(" runs (").Append(runs.Count(r => r.Diverged)).Append(" diverged).</p>");
        if (!Plots.FontAvailable) h.Append("<p class=\"warn\">No system font was found: plot text is missing. Install fonts-dejavu-core.</p>");

        ForestPlot(h, outcomes);
        h.Append("<h2>Verdicts</h2><table id=\"verdicts\"><tr><th>claim</th><th>statement</th><th>regimes</th><th>metric</th><th>medians (regime vs reference)</th><th>effect r [95% CI]</th><th>p (expected direction)</th><th>p two-sided</th><th>p adj BY</th><th>p adj BH</th><th>verdict</th><th>baseline verdict</th><th>paper's support</th><th>Base train acc. (loss)</th></tr>");
        foreach (var o in outcomes)
        {
            string cls = o.Verdict.Split(' ')[0];
            string Join(Func<ComparisonOutcome, string> f) => string.Join("<br>", o.Comparisons.Select(c => E(f(c))));
            string regimes = o.Comparisons.Count > 0 ? Join(c => $"{c.Setting}: {c.Regime} vs {c.Reference}") : string.Join("<br>", o.Correlations.Select(c => E($"{c.Setting}: pooled over regimes")));
            string metric = o.Comparisons.Count > 0 ? Join(c => c.Metric) : string.Join("<br>", o.Correlations.Select(c => E(c.Rival is null ? $"{c.X} ~ {c.Y}" : $"{c.X} vs {c.Rival} ~ {c.Y}")));
            string medians = o.Comparisons.Count > 0 ? Join(c => $"{Format.Number(c.RegimeMedian)} vs {Format.Number(c.ReferenceMedian)}") : string.Join("<br>", o.Correlations.Select(c => E(c.Rival is null
                ? $"tau {Format.Number(c.Tau)}; within: {string.Join(", ", c.TauWithinRegime.Select(p => $"{p.Key} {Format.Number(p.Value)}"))}; stratified {Format.Number(c.StratifiedTau)} (p {Format.P(c.StratifiedP)})"
                : $"tau {Format.Number(c.Tau)} vs {Format.Number(c.RivalTau)}: D {Format.Number(c.TauDifference)} ± {Format.Number(c.TauDifferenceStandardError)} [{Format.Number(c.TauDifferenceLower)}, {Format.Number(c.TauDifferenceUpper)}]; "
                    + $"within: {string.Join(", ", c.TauWithinRegime.Select(p => $"{p.Key} {Format.Number(p.Value)} vs {Format.Number(c.RivalTauWithinRegime.GetValueOrDefault(p.Key, double.NaN))}"))}; D within regimes {Format.Number(c.StratifiedTauDifference)} (p {Format.P(c.StratifiedDifferenceP)})")));
            string effect = o.Comparisons.Count > 0 ? Join(c => double.IsNaN(c.RankBiserial) ? "" : $"{Format.Number(c.RankBiserial)} [{Format.Number(c.RankBiserialLower)}, {Format.Number(c.RankBiserialUpper)}]") : "";
            string p = o.Comparisons.Count > 0 ? Join(c => Format.P(c.P)) : string.Join("<br>", o.Correlations.Select(c => Format.P(c.P)));
            string by = o.Comparisons.Count > 0 ? Join(c => Format.P(c.PAdjusted)) : string.Join("<br>", o.Correlations.Select(c => Format.P(c.PAdjusted)));
            string bh = o.Comparisons.Count > 0 ? Join(c => Format.P(c.PAdjustedBh)) : "";
            string twoSided = o.Comparisons.Count > 0 ? Join(c => Format.P(c.PTwoSided)) : string.Join("<br>", o.Correlations.Select(c => Format.P(c.PTwoSided)));
            if (o.Bounds.Count > 0)
            {
                // A bound claim has no test: the row names each cell's interval and its range over seeds (table below).
                regimes = string.Join("<br>", o.Bounds.Select(b => E($"{b.Setting}: {b.Regime}")));
                metric = string.Join("<br>", o.Bounds.Select(b => E($"{b.Metric} {b.Interval}")));
                medians = string.Join("<br>", o.Bounds.Select(b => E(b.Values.Count == 0 ? "no values" : $"{Format.Number(b.Values.Min())} .. {Format.Number(b.Values.Max())} over {b.Values.Count} seeds")));
            }
            h.Append($"<tr data-claim=\"{E(o.ClaimId)}\" class=\"{E(cls)}\"><td>{E(o.ClaimId)}</td><td>{E(o.Statement)}</td><td>{regimes}</td><td>{metric}</td><td>{medians}</td><td>{effect}</td><td>{p}</td><td>{twoSided}</td><td>{by}</td><td>{bh}</td>")
             .Append($"<td><b>{E(o.Verdict)}</b><br><small>{E(o.VerdictNote)}</small></td><td>{E(baselineVerdicts.GetValueOrDefault(o.ClaimId, "none"))}</td><td>{E(o.Support)}</td>")
             .Append($"<td>{string.Join("<br>", o.Convergence.Select(c => E(double.IsNaN(c.BaseTrainAccuracy) ? $"{c.Setting} loss {Format.Number(c.BaseTrainLoss)}" : $"{c.Setting} {Format.Number(c.BaseTrainAccuracy)} (loss {Format.Number(c.BaseTrainLoss)}){(c.Converged ? "" : " not converged")}")))}</td></tr>");
        }
        h.Append("</table><p>Wilcoxon signed-rank over seeds, paired by seed; r = matched-pairs rank-biserial correlation with its 95% seeded bootstrap interval over seeds ([1, 1] when every seed agrees); for disagreement and JS divergence (per-group metrics, whose per-seed values share models) the paired permutation test over models (regime labels swapped within seeds; effect T = mean pairwise value within the regime - within the reference; no r); p two-sided = min(1, 2 min(p, p opposite)); BY = Benjamini-Yekutieli of the two-sided p within the claim's family (below), BH = Benjamini-Hochberg beside it; alpha = ")
         .Append(suite.Options.Alpha).Append(". Significant in the expected direction is reproduced, the other way contradicted (the same evidence either way); a test whose runs miss the claim's premise is 'premise unmet' and counts neither way; a claim of no effect that is not rejected is 'not rejected', never reproduced.</p>");
        Bounds(h, outcomes);
        Families(h, all);
        Grid(h, all);
        Maps(h, all);

        h.Append("<h2>Figures</h2>");
        SamSharpnessAgainstRadius(h, runs, metrics);
        var settings = suite.AllClaims.Where(c => outcomes.Any(o => o.ClaimId == c.Id)).SelectMany(c => c.Settings).Distinct().Order().ToList();
        foreach (var setting in settings)
        {
            var mine = runs.Where(r => r.Setting == setting && !r.Diverged).ToList();
            var present = mine.SelectMany(r => metrics.GetValueOrDefault(r.Key)?.Keys ?? Enumerable.Empty<string>()).Distinct().ToList();
            h.Append("<h3>Setting ").Append(E(setting)).Append("</h3>");
            var sharp = MetricRegistry.All.Where(m => m.Family == MetricFamily.Sharpness && present.Contains(m.Name)).Select(m => m.Name).ToList();
            foreach (var y in new[] { "generalisation_gap", "test_accuracy" }.Where(present.Contains))
                foreach (var x in sharp)
                {
                    var pts = mine.Where(r => metrics.TryGetValue(r.Key, out var m) && m.ContainsKey(x) && m.ContainsKey(y)).Select(r => (r.Regime, metrics[r.Key][x], metrics[r.Key][y])).ToList();
                    if (pts.Count < 3) continue;
                    Figure(h, $"scatter:{setting}:{x}:{y}", Plots.Scatter($"{setting}: {x} vs {y}", x, y, pts),
                        $"{setting}: {x} against {y}, one point per run, coloured by regime; dashed: least squares within a regime; black: pooled.");
                }
            foreach (var metric in MetricRegistry.Names.Where(present.Contains))
            {
                var groups = mine.GroupBy(r => r.Regime).OrderBy(g => Plots.RegimeRank(g.Key))
                    .Select(g => (g.Key, (IReadOnlyList<double>)g.Where(r => metrics[r.Key].ContainsKey(metric)).Select(r => metrics[r.Key][metric]).ToList()))
                    .Where(g => g.Item2.Count > 0).ToList();
                if (groups.Count == 0) continue;
                Figure(h, $"box:{setting}:{metric}", Plots.Boxes($"{setting}: {metric}", metric, groups), $"{setting}: {metric} per regime over seeds.");
            }
            var curves = mine.GroupBy(r => r.Regime).OrderBy(g => Plots.RegimeRank(g.Key)).Select(g =>
            {
                var logs = g.Select(r => JsonSerializer.Deserialize<List<Training.EpochLog>>(r.EpochsJson, RunExecutor.EpochJson) ?? []).Where(l => l.Count > 0).ToList();
                int epochs = logs.Count == 0 ? 0 : logs.Min(l => l.Count);
                return (g.Key, Enumerable.Range(1, epochs).Select(e => (double)e).ToArray(), Enumerable.Range(0, epochs).Select(e => logs.Average(l => l[e].Loss)).ToArray());
            }).Where(c => c.Item2.Length > 0).ToList();
            if (curves.Count > 0) Figure(h, $"curves:{setting}", Plots.Lines($"{setting}: training loss", "epoch", "mean training loss over seeds", curves, logY: true), $"{setting}: mean training loss per epoch (log scale).");
            SpectralDensities(h, setting, mine);
            Trajectories(h, setting, mine);
        }
        h.Append("</body></html>");
        return h.ToString();
    }

    /// <summary>
    /// The first figure: one row per comparison, grouped by claim, the median paired difference in the claimed
    /// direction as a share of the reference median (so rows of different metrics share one axis; right of 0 = as the
    /// claim says), with its 95% bootstrap interval, coloured by the comparison's verdict. Inline SVG from the
    /// evaluated outcomes only; intervals are clipped to [-100%, +300%] and marked where clipped.
    /// </summary>
    private static void ForestPlot(StringBuilder h, IReadOnlyList<ClaimOutcome> outcomes)
    {
        var rows = outcomes.SelectMany(o => o.Comparisons.Where(c => !double.IsNaN(c.MedianDifference) && c.ReferenceMedian != 0).Select(c => (o.ClaimId, c))).ToList();
        if (rows.Count == 0) return;
        const double lo = -1, hi = 3;
        const int left = 330, width = 560, rowHeight = 14, top = 24;
        double X(double v) => left + width * (Math.Clamp(v, lo, hi) - lo) / (hi - lo);
        string Colour(string verdict) => verdict switch
        {
            Verdicts.Reproduced or Verdicts.LosesTo => "#2e7d32", Verdicts.Contradicted or Verdicts.Beats => "#c62828",
            Verdicts.PremiseUnmet => "#9e9e9e", _ => "#b59b00",
        };
        int height = top + rowHeight * rows.Count + 20;
        var svg = new StringBuilder();
        svg.Append($"<svg id=\"forest\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 20}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"10\">");
        foreach (var tick in new[] { -1.0, 0, 1, 2, 3 })
            svg.Append($"<line x1=\"{X(tick):0.#}\" y1=\"{top - 6}\" x2=\"{X(tick):0.#}\" y2=\"{height - 18}\" stroke=\"{(tick == 0 ? "#000" : "#ddd")}\"/><text x=\"{X(tick):0.#}\" y=\"{top - 10}\" text-anchor=\"middle\">{tick * 100:+0;-0;0}%</text>");
        for (int i = 0; i < rows.Count; i++)
        {
            var (claim, c) = rows[i];
            // In a "best" claim a row is "rival vs claimed regime": flip it so that right of 0 still favours the claim.
            bool best = c.Verdict is Verdicts.Beats or Verdicts.LosesTo or Verdicts.Tie;
            double sign = (c.Expected == "lower" ? -1 : 1) * (best ? -1 : 1), scale = Math.Abs(c.ReferenceMedian);
            double mid = sign * c.MedianDifference / scale, a = sign * c.MedianDifferenceLower / scale, b = sign * c.MedianDifferenceUpper / scale;
            double y = top + rowHeight * i + rowHeight / 2.0;
            string colour = Colour(c.Verdict);
            string label = $"{claim} {c.Setting} {c.Metric} {c.Regime}";
            svg.Append($"<g data-claim=\"{E(claim)}\" data-verdict=\"{E(c.Verdict)}\"><title>{E($"{label}: {c.Verdict}; difference {c.MedianDifference:g4} [{c.MedianDifferenceLower:g4}, {c.MedianDifferenceUpper:g4}] on reference median {c.ReferenceMedian:g4}")}</title>")
               .Append($"<text x=\"{left - 6}\" y=\"{y + 3:0.#}\" text-anchor=\"end\">{E(label.Length > 58 ? label[..58] : label)}</text>");
            if (!double.IsNaN(a) && !double.IsNaN(b))
                svg.Append($"<line x1=\"{X(Math.Min(a, b)):0.#}\" y1=\"{y:0.#}\" x2=\"{X(Math.Max(a, b)):0.#}\" y2=\"{y:0.#}\" stroke=\"{colour}\" stroke-width=\"2\"{(Math.Min(a, b) < lo || Math.Max(a, b) > hi ? " stroke-dasharray=\"4 2\"" : "")}/>");
            svg.Append($"<circle cx=\"{X(mid):0.#}\" cy=\"{y:0.#}\" r=\"3.5\" fill=\"{colour}\"/></g>");
        }
        svg.Append("</svg>");
        h.Append("<h2>Effects at a glance</h2><figure>").Append(svg).Append("<figcaption>Each comparison's median paired difference in the claimed direction, as a share of the reference median (right of 0: as the claim says), with its 95% bootstrap interval (dashed: clipped to -100%..+300%). Green: reproduced (in a 'best' claim: the claimed regime significantly better); red: contradicted (a rival significantly better); yellow: not significant; grey: premise unmet. Hover a row for its figures.</figcaption></figure>");
    }

    /// <summary>Bound claims' cells: every seed's value against the interval, the seeds outside named.</summary>
    private static void Bounds(StringBuilder h, IReadOnlyList<ClaimOutcome> outcomes)
    {
        var cells = outcomes.SelectMany(o => o.Bounds.Select(b => (o.ClaimId, b))).ToList();
        if (cells.Count == 0) return;
        h.Append("<h2>Bounds</h2><table id=\"bounds\"><tr><th>claim</th><th>setting / regime</th><th>metric</th><th>interval</th><th>values by seed</th><th>seeds outside</th><th>verdict</th></tr>");
        foreach (var (id, b) in cells)
            h.Append($"<tr data-bound=\"{E(id)}\" class=\"{E(b.Verdict.Split(' ')[0])}\"><td>{E(id)}</td><td>{E($"{b.Setting} / {b.Regime}")}</td><td>{E(b.Metric)}</td><td>{E(b.Interval)}</td>"
                + $"<td>{E(string.Join(", ", b.Seeds.Select((seed, i) => $"{seed}: {b.Values[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)}")))}</td><td>{E(string.Join(" ", b.OutsideSeeds))}</td><td>{E(b.Verdict)}</td></tr>");
        h.Append("</table><p>A bound claim holds every seed's value to an interval the theory implies; it has no statistical test, so no p-value and no place in a multiple-testing family: all seeds inside is reproduced, any seed outside contradicted.</p>");
    }

    /// <summary>Each multiple-testing family with its members (from the catalogue, whatever was selected) and its test count.</summary>
    private void Families(StringBuilder h, IReadOnlyList<ClaimOutcome> outcomes)
    {
        h.Append("<h2>Multiple-testing families</h2><table id=\"families\"><tr><th>family</th><th>what it holds</th><th>member claims</th><th>tests</th><th>false-positive rate on null data</th><th>minimum detectable effect d at 10 seeds (all true / one true)</th></tr>");
        // The evaluator on the stored values made null (signs flipped per seed, correlations permuted): BY must keep it at most alpha.
        var rates = NullSimulation.Run(outcomes, suite.Options.Alpha).ToDictionary(r => r.Family);
        var detectable = DetectableEffect.Run(outcomes, suite.Options.Alpha).ToDictionary(r => r.Family);
        var shown = outcomes.Select(o => o.ClaimId).ToHashSet();
        // The catalogue's families, then each sweep's (its cells, adjusted together): one row each, the same columns.
        var families = ClaimFamilies.All.Select(f => (f.Name, f.Description, Members: suite.AllClaims.Where(c => c.Family == f.Name).ToList(), Sweep: (SweepSpec?)null))
            .Concat(suite.Sweeps.Select(w => (Name: w.Family, Description: $"The cells of verdict map {w.Id}, adjusted together (the map's false discovery rate). {w.Description}",
                Members: suite.AllClaims.Where(c => c.Family == w.Family).ToList(), Sweep: (SweepSpec?)w)));
        foreach (var (name, description, members, sweep) in families)
        {
            if (members.Count == 0 || !members.Any(m => shown.Contains(m.Id))) continue;
            int tests = outcomes.Where(o => members.Any(m => m.Id == o.ClaimId)).Sum(o => o.Comparisons.Count + o.Correlations.Count);
            string memberText = sweep is null ? string.Join(", ", members.Select(m => m.Id)) : $"{members.Count} cells of {string.Join(", ", sweep.Claims)}";
            h.Append($"<tr data-family=\"{E(name)}\"><td>{E(name)}</td><td>{E(description)}</td><td>{E(memberText)}</td><td>{tests}</td><td>{(rates.TryGetValue(name, out var rate) ? $"{rate.Rate:P1} of {rate.Simulations}" : "")}</td>"
                + $"<td>{(detectable.TryGetValue(name, out var mde) ? E($"{FamilyDetectableEffect.Describe(mde.AllTrue)} / {FamilyDetectableEffect.Describe(mde.OneTrue)}") : "")}</td></tr>");
        }
        h.Append("</table><p>False-positive rate: the share of 1000 simulated data sets, built from the stored values with each seed's paired difference given a random sign (and y permuted in correlations), in which the family's two-sided tests adjusted by Benjamini-Yekutieli reject at least once. Nothing is going on in them, so this is the family's error rate; it must be at most alpha. "
            + "Minimum detectable effect: the smallest standardised mean of the per-seed paired differences (Cohen's d_z) that the family's rule (exact two-sided signed-rank, Benjamini-Yekutieli over the family's tests, the observed sign) detects with 80% power at 10 seeds, by 1000 simulations with normal differences: when every comparison of the family carries that effect, and when only one does; '> 4' = not within d 4 (Evaluation/DetectableEffect.cs).</p>");
    }

    /// <summary>
    /// The regime × measure grid (<see cref="RegimeGrid"/>): per setting, regimes by sharpness measures and by safety
    /// metrics, each cell coloured by its verdict (purple where claims in different families disagree) with the measured
    /// effect as text and each claim's adjusted p on hover.
    /// </summary>
    private void Grid(StringBuilder h, IReadOnlyList<ClaimOutcome> all)
    {
        var panels = RegimeGrid.Build(suite.AllClaims, all, suite.Settings);
        if (panels.Count == 0) return;
        h.Append("<h2>Regime × measure grid</h2><p>Every comparison the claims test, per setting: regimes against Base (or the named reference) by measure. Colour: the verdict (green reproduced, red contradicted, yellow inconclusive, grey premise unmet, purple where claims of different families over the same runs reach different verdicts, each named in the cell); text: the median paired difference regime - reference as a share of the reference median and the rank-biserial r, signed as measured (+ = the regime's value is higher), whatever a claim expects. An empty cell is one no claim tests.</p>");
        foreach (var panel in panels)
        {
            h.Append($"<h4>{E(panel.Setting)}, {(panel.Side == MetricFamily.Sharpness ? "sharpness" : "safety")}</h4><table class=\"grid\" data-grid=\"{E($"{panel.Setting}.{panel.Side}")}\"><tr><th>regime</th>");
            foreach (var m in panel.Metrics) h.Append("<th>").Append(E(m)).Append("</th>");
            h.Append("</tr>");
            foreach (var row in panel.Rows)
            {
                h.Append("<tr><th>").Append(E(row)).Append("</th>");
                foreach (var m in panel.Metrics)
                {
                    var cell = panel.At(row, m);
                    if (cell is null) { h.Append("<td></td>"); continue; }
                    h.Append($"<td class=\"{E(VerdictMaps.ColourClass(cell.Verdict))}\" data-grid-cell=\"{E(row + "," + m)}\" title=\"{E(cell.Detail)}\"><b>{E(cell.VerdictText)}</b><br>{E(cell.Effect)}</td>");
                }
                h.Append("</tr>");
            }
            h.Append("</table>");
        }
    }

    /// <summary>
    /// The verdict maps: per sweep, per swept claim and test, a grid over the sweep's axes (rows the first, columns the
    /// second), each cell coloured by its verdict, with the effect as text (<see cref="VerdictMaps"/>) and its figures on
    /// hover. The cell at the catalogue setting's own values is outlined: it re-tests the catalogue claim on its runs.
    /// </summary>
    private void Maps(StringBuilder h, IReadOnlyList<ClaimOutcome> all)
    {
        var panels = VerdictMaps.Build(suite.Sweeps, suite.AllClaims, all, suite.Settings, suite.Options.Profile);
        if (panels.Count == 0) return;
        h.Append("<h2>Verdict maps</h2><p>Each swept claim re-evaluated over a grid of training budgets (a sweep, claims/sweeps/). A cell is an ordinary claim on copies of the settings with the cell's values: its own runs (as many seeds as the setting has at this profile), its own premise check and, for the repository's sweeps, its own reviewed baseline (a sweep started from the command line has none); the cells of one sweep form one multiple-testing family. Colour: the cell's verdict (green reproduced, red contradicted, yellow inconclusive, grey premise unmet; in a 'best' claim green where the claimed regime is significantly better, red where the rival is); text: the median paired difference in the claimed direction as a share of the reference median (+ = as the claim says) and the rank-biserial r; outlined: the catalogue setting's own budget.</p>");
        foreach (var sweep in suite.Sweeps.Where(s => panels.Any(p => p.Sweep == s.Id)))
        {
            h.Append("<h3>").Append(E(sweep.Id)).Append("</h3><p>").Append(E(sweep.Description)).Append("</p>");
            foreach (var panel in panels.Where(p => p.Sweep == sweep.Id))
            {
                h.Append($"<h4>{E(panel.Claim)}: {E(panel.Test)}</h4><table class=\"map\" data-map=\"{E($"{panel.Sweep}.{panel.Claim}: {panel.Test}")}\"><tr><th>{E(panel.ColumnAxis is null ? panel.RowAxis : $"{panel.RowAxis} \\ {panel.ColumnAxis}")}</th>");
                var columns = panel.ColumnAxis is null ? [(double?)null] : panel.Columns.Select(c => (double?)c).ToList();
                foreach (var c in columns) h.Append("<th>").Append(c is { } v ? E(VerdictMaps.AxisValue(v)) : "").Append("</th>");
                h.Append("</tr>");
                foreach (var row in panel.Rows)
                {
                    h.Append("<tr><th>").Append(E(VerdictMaps.AxisValue(row))).Append("</th>");
                    foreach (var column in columns)
                    {
                        var cell = panel.At(row, column);
                        if (cell is null) { h.Append("<td class=\"no\">no data</td>"); continue; }
                        string style = cell.IsCatalogueSetting ? " style=\"outline:2px solid #333\"" : "";
                        h.Append($"<td class=\"{E(VerdictMaps.ColourClass(cell.Verdict))}\" data-cell=\"{E(VerdictMaps.AxisValue(row) + (column is { } cv ? "," + VerdictMaps.AxisValue(cv) : ""))}\" title=\"{E(cell.Detail)}\"{style}><b>{E(cell.Verdict)}</b><br>{E(cell.Effect)}</td>");
                    }
                    h.Append("</tr>");
                }
                h.Append("</table>");
            }
        }
    }

    /// <summary>
    /// Hessian spectral density of seed 0 per regime, from the quadrature stored by `run` (<see cref="HessianSpectrum"/>):
    /// each probe's nodes broadened by a Gaussian of width (range + 1e-9) / 100 on 200 points spanning the nodes with 5%
    /// margin. Regimes whose seed-0 run has no stored spectrum (no checkpoint to measure it from) are named below.
    /// </summary>
    private void SpectralDensities(StringBuilder h, string setting, List<StoredRun> runs)
    {
        var lines = new List<(string, double[], double[])>();
        var missing = new List<string>();
        foreach (var run in runs.Where(r => r.Seed == 0).OrderBy(r => Plots.RegimeRank(r.Regime)))
        {
            if (results.SpectrumOf(run.Key) is not { } stored) { missing.Add(run.Regime); continue; }
            var density = new SpectralDensity(stored.Nodes, stored.Weights, 0, 0);
            double lo = density.Nodes.SelectMany(v => v).Min(), hi = density.Nodes.SelectMany(v => v).Max(), pad = 0.05 * (hi - lo + 1e-9);
            var grid = Enumerable.Range(0, 200).Select(i => lo - pad + (hi - lo + 2 * pad) * i / 199.0).ToArray();
            lines.Add((run.Regime, grid, density.Density(grid, (hi - lo + 1e-9) / 100)));
        }
        if (lines.Count > 0)
            Figure(h, $"spectrum:{setting}", Plots.Lines($"{setting}: Hessian spectral density (seed 0)", "eigenvalue", "density", lines, logY: true),
                $"{setting}: Hessian eigenvalue density of the training loss on the measure subset, stochastic Lanczos quadrature ({HessianSpectrum.Probes} probes, {HessianSpectrum.Steps} steps), Gaussian broadening.");
        if (missing.Count > 0)
            h.Append("<p class=\"warn\" data-missing-spectra=\"").Append(E(setting)).Append("\">").Append(E($"{setting}: no stored Hessian spectrum for seed 0 of {string.Join(", ", missing)} (measured by `reproduce run` after the run's metrics, or later from its checkpoint; none was available).")).Append("</p>");
    }

    /// <summary>
    /// Each trajectory metric's stored trajectory (<see cref="TrajectoryMetric"/>: recorded during training, kept in the
    /// metric's details), one line per run coloured by regime, with the metric's reference level where it has one (the
    /// edge of stability 2/eta) as a dashed line. Reads the stored details only.
    /// </summary>
    private void Trajectories(StringBuilder h, string setting, List<StoredRun> runs)
    {
        // Metrics sharing a recording (same trajectory key) store the same trajectory: one figure per key.
        foreach (var sharing in MetricRegistry.All.OfType<TrajectoryMetric>().GroupBy(m => m.TrajectoryKey))
        {
            var lines = new List<(string Regime, double[] X, double[] Y)>();
            double? reference = null;
            string? referenceLabel = null;
            TrajectoryMetric metric = sharing.First();
            foreach (var run in runs.OrderBy(r => Plots.RegimeRank(r.Regime)).ThenBy(r => r.Seed))
            {
                var stored = sharing.Select(m => (Metric: m, Stored: results.MetricsOf(run.Key).GetValueOrDefault(m.Name))).FirstOrDefault(s => s.Stored is not null);
                if (stored.Stored is null || TrajectoryMetric.Read(stored.Stored.DetailsJson) is not { } t) continue;
                if (lines.Count == 0) metric = stored.Metric;
                lines.Add((run.Regime, t.Steps, t.Values));
                reference ??= t.Reference;
                referenceLabel ??= t.ReferenceLabel;
            }
            if (lines.Count == 0) continue;
            Figure(h, $"trajectory:{setting}:{metric.Name}", Plots.Trajectories($"{setting}: {metric.Observed} along training", "step", metric.Observed, lines, reference, referenceLabel),
                $"{setting}: {metric.Observed} every {metric.EverySteps} steps of training, one line per seed, coloured by regime (stored in the details of {metric.Name})"
                + (reference is { } r ? $"; dashed: {referenceLabel} = {Format.Number(r)}." : "."));
        }
    }

    /// <summary>
    /// Claim 11's curve, as the paper plots it: for the 2-D function targets (functions2d settings among the planned
    /// runs), the median over seeds of SAM sharpness at each of the paper's radii (<see cref="SamSharpnessAtRadiusMetric.PaperCurveRadii"/>;
    /// rho 5e-3 is sam_sharpness) against rho on log-log axes, one line per target, and a table of the same medians with
    /// each target's median relative train loss (1 - R^2: how equally converged the fits are) and its seed count. Base
    /// runs only, diverged runs left out. Drawn when some target has the metric at two or more radii.
    /// </summary>
    private void SamSharpnessAgainstRadius(StringBuilder h, List<StoredRun> runs, Dictionary<string, Dictionary<string, double>> metrics)
    {
        var radii = SamSharpnessAtRadiusMetric.PaperCurveRadii;
        var rows = new List<(string Setting, string Target, double[] Medians, double RelativeLoss, int Seeds)>();
        foreach (var setting in runs.Select(r => r.Setting).Distinct().Order(StringComparer.Ordinal))
        {
            if (!suite.Settings.TryGetValue(setting, out var spec) || spec.For(suite.Options.Profile) is not { Data: "functions2d" } profile) continue;
            var mine = runs.Where(r => r.Setting == setting && r.Regime == "Base" && !r.Diverged).Select(r => metrics[r.Key]).ToList();
            double MedianOf(string metric) => mine.Where(m => m.ContainsKey(metric)).Select(m => m[metric]).ToList() is { Count: > 0 } v ? BootstrapInterval.Median(v) : double.NaN;
            var medians = radii.Select(rho => MedianOf(SamSharpnessAtRadiusMetric.MetricNameAt(rho))).ToArray();
            if (medians.Count(double.IsFinite) < 2) continue;
            rows.Add((setting, profile.Function ?? setting, medians, MedianOf("train_loss_relative"), mine.Count));
        }
        if (rows.Count == 0) return;
        string rhoList = string.Join(", ", radii.Select(r => Format.Number(r)));
        Figure(h, "sam-sharpness-vs-rho", Plots.LogLogLines("2-D targets: SAM sharpness against rho", "rho", "median SAM sharpness",
                [.. rows.Select(r => (r.Target, radii.ToArray(), r.Medians))]),
            $"Claim 11 as the paper plots it: the median over seeds of SAM sharpness (mean |L(w + rho z / sqrt P) - L(w)| / rho over the setting's draws) at rho {rhoList} for each 2-D target, log-log. Read it with each fit's median relative train loss (table below): the paper's premise is equally converged fits.");
        h.Append("<table id=\"sam-sharpness-vs-rho\"><tr><th>target (setting)</th><th>median train_loss_relative (1 - R^2)</th>")
         .Append(string.Concat(radii.Select(r => $"<th>median SAM sharpness, rho {E(Format.Number(r))}</th>"))).Append("<th>seeds</th></tr>");
        foreach (var r in rows)
            h.Append($"<tr><td>{E(r.Target)} ({E(r.Setting)})</td><td>{E(Format.Number(r.RelativeLoss))}</td>")
             .Append(string.Concat(r.Medians.Select(m => $"<td>{E(Format.Number(m))}</td>"))).Append($"<td>{r.Seeds}</td></tr>");
        h.Append("</table>");
    }

    private static void Figure(StringBuilder h, string id, byte[] png, string caption) =>
        h.Append($"<figure data-figure=\"{E(id)}\"><img alt=\"{E(caption)}\" width=\"{Plots.Width}\" height=\"{Plots.Height}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\"><figcaption>{E(caption)}</figcaption></figure>");

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
