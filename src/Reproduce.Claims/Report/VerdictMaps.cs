using System.Globalization;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace Reproduce.Claims.Report;

/// <summary>One cell of a verdict map: the axis values, the test's verdict there, its effect as text and the figures behind it.</summary>
public sealed record VerdictMapCell(double Row, double? Column, string Verdict, string Effect, string Detail, bool IsCatalogueSetting);

/// <summary>
/// One heatmap: one test of one swept claim (a comparison "setting: regime vs reference, metric", a correlation "setting:
/// x ~ y" or a bound) over a sweep's grid, rows the first axis and columns the second (none for a one-axis sweep).
/// </summary>
public sealed record VerdictMapPanel(string Sweep, string Claim, string Test, string RowAxis, IReadOnlyList<double> Rows,
    string? ColumnAxis, IReadOnlyList<double> Columns, IReadOnlyList<VerdictMapCell> Cells)
{
    public VerdictMapCell? At(double row, double? column) => Cells.FirstOrDefault(c => c.Row == row && c.Column == column);
}

/// <summary>
/// The verdict maps of the evaluated sweep cells (<see cref="SweepSpec"/>), built from the outcomes only (the report
/// renders stored results): each cell's verdict colours it; the effect is the median paired difference in the claimed
/// direction as a share of the reference median (as in the forest plot; + = as the claim says) with the rank-biserial r,
/// Kendall's tau for a correlation, the seeds inside the interval for a bound. A cell whose runs miss the claim's
/// premise says so (its verdict is "premise unmet", grey), so a map never passes an unconverged cell off as a verdict.
/// </summary>
public static class VerdictMaps
{
    public static IReadOnlyList<VerdictMapPanel> Build(IReadOnlyList<SweepSpec> sweeps, IReadOnlyList<ClaimSpec> claims, IReadOnlyList<ClaimOutcome> outcomes,
        IReadOnlyDictionary<string, SettingSpec> settings, string profile)
    {
        var byId = outcomes.ToDictionary(o => o.ClaimId);
        var panels = new List<VerdictMapPanel>();
        foreach (var sweep in sweeps)
            foreach (var claimId in sweep.Claims)
            {
                var cells = claims.Where(c => c.Cell is { } cell && cell.Sweep == sweep.Id && cell.Claim == claimId && byId.ContainsKey(c.Id)).ToList();
                if (cells.Count == 0) continue;
                var tests = new Dictionary<string, List<VerdictMapCell>>();
                foreach (var claim in cells)
                {
                    var cell = claim.Cell!;
                    double row = cell.Values[0].Value;
                    double? column = cell.Values.Count > 1 ? cell.Values[1].Value : null;
                    bool catalogue = claim.Settings.All(s => IsCatalogueValue(settings, s, cell, profile));
                    var o = byId[claim.Id];
                    foreach (var c in o.Comparisons)
                        Add(tests, $"{Base(c.Setting)}: {c.Regime} vs {c.Reference}, {c.Metric} ({c.Expected} expected)", new VerdictMapCell(row, column, c.Verdict, ComparisonEffect(c),
                            $"medians {Format.Number(c.RegimeMedian)} vs {Format.Number(c.ReferenceMedian)}; p adj {Format.P(c.PAdjusted)}; train acc. {Format.Number(c.RegimeTrainAccuracy)} / {Format.Number(c.ReferenceTrainAccuracy)}"
                            + (c.PremiseFailures.Count > 0 ? "; premise: " + string.Join("; ", c.PremiseFailures) : ""), catalogue));
                    foreach (var c in o.Correlations)
                        Add(tests, $"{Base(c.Setting)}: {c.X} ~ {c.Y} ({c.Expected} expected)", new VerdictMapCell(row, column, c.Verdict, $"tau {Format.Number(c.Tau)}",
                            $"{c.Runs} runs; p adj {Format.P(c.PAdjusted)}" + (c.PremiseFailures.Count > 0 ? "; premise: " + string.Join("; ", c.PremiseFailures) : ""), catalogue));
                    foreach (var b in o.Bounds)
                        Add(tests, $"{Base(b.Setting)}: {b.Metric} in {b.Interval}", new VerdictMapCell(row, column, b.Verdict, $"{b.Values.Count - b.OutsideSeeds.Count} of {b.Values.Count} inside",
                            b.Values.Count == 0 ? "no values" : $"{Format.Number(b.Values.Min())} .. {Format.Number(b.Values.Max())}", catalogue));
                }
                foreach (var (test, list) in tests)
                    panels.Add(new VerdictMapPanel(sweep.Id, claimId, test, sweep.Axes[0].Field, sweep.Axes[0].Values,
                        sweep.Axes.Count > 1 ? sweep.Axes[1].Field : null, sweep.Axes.Count > 1 ? sweep.Axes[1].Values : [], list));
            }
        return panels;
    }

    /// <summary>"+38% (r 0.9)": the median paired difference in the claimed direction over |reference median|.</summary>
    public static string ComparisonEffect(ComparisonOutcome c)
    {
        bool best = c.Verdict is Verdicts.Beats or Verdicts.LosesTo or Verdicts.Tie;
        double sign = (c.Expected == "lower" ? -1 : 1) * (best ? -1 : 1);
        string share = c.ReferenceMedian == 0 || double.IsNaN(c.MedianDifference) ? $"Δ {Format.Number(c.MedianDifference)}"
            : (sign * c.MedianDifference / Math.Abs(c.ReferenceMedian)).ToString("+0.#%;-0.#%;0%", CultureInfo.InvariantCulture);
        return double.IsNaN(c.RankBiserial) ? share : $"{share} (r {(sign * c.RankBiserial).ToString("0.##", CultureInfo.InvariantCulture)})";
    }

    /// <summary>The report's CSS class for a cell's verdict: a 'best' claim's comparisons ("beats the claimed regime",
    /// "worse than the claimed regime", "no significant difference") take the colours the forest plot gives them.</summary>
    public static string ColourClass(string verdict) => verdict switch
    {
        Verdicts.LosesTo => "reproduced",
        Verdicts.Beats => "contradicted",
        Verdicts.Tie => "inconclusive",
        Verdicts.NoData => "nodata",
        _ => verdict.Split(' ')[0],
    };

    public static string AxisValue(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The setting name a cell's derived setting was made from ("mlp@epochs=12,trainSize=250" → "mlp"; a condition's
    /// "a@x vs b@x" → "a vs b"; cell labels hold no space).</summary>
    private static string Base(string setting) => System.Text.RegularExpressions.Regex.Replace(setting, "@[^ ]+", "");

    private static void Add(Dictionary<string, List<VerdictMapCell>> tests, string key, VerdictMapCell cell)
    {
        if (!tests.TryGetValue(key, out var list)) tests[key] = list = [];
        list.Add(cell);
    }

    /// <summary>Whether the cell's value on every axis is the catalogue setting's own (widthFactor 1), i.e. the cell
    /// re-tests the catalogue claim on its own runs.</summary>
    private static bool IsCatalogueValue(IReadOnlyDictionary<string, SettingSpec> settings, string derivedSetting, SweepCell cell, string profile)
    {
        if (!settings.TryGetValue(derivedSetting.Split('@')[0], out var setting) || !setting.Profiles.TryGetValue(profile, out var p)) return false;
        return cell.Values.All(v => SweepAxes.OwnValue(p, v.Field) == v.Value);
    }
}
