using ScottPlot;

namespace Reproduce.Claims.Report;

/// <summary>
/// The report's figures as PNG bytes (ScottPlot). Regimes keep one colour across every figure. Fonts: ScottPlot
/// silently drops all text when no system font is found, so the font is checked (<see cref="FontAvailable"/>) and the
/// report says so instead of shipping unlabelled plots.
/// </summary>
public static class Plots
{
    public const int Width = 640, Height = 420;
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    public static readonly IReadOnlyList<string> RegimeOrder = ["Base", "WD", "Aug", "SAM", "Aug+SAM", "WD+SAM", "LargeBatch", "SWA"];

    /// <summary>Position of a regime in the report's fixed order; -1 (first) for a regime registered by a user.</summary>
    public static int RegimeRank(string regime)
    {
        for (int i = 0; i < RegimeOrder.Count; i++) if (RegimeOrder[i] == regime) return i;
        return -1;
    }

    /// <summary>
    /// The regime's colour: its place in <see cref="RegimeOrder"/>, or for a regime outside it one of the next three
    /// palette colours chosen by a hash of its name. The hash is this function's own: string.GetHashCode is randomised
    /// per process, which gave a regime such as Base-control another colour, so other figure bytes, in every process.
    /// </summary>
    public static Color ColourOf(string regime)
    {
        int i = RegimeRank(regime);
        return Palette.GetColor(i < 0 ? RegimeOrder.Count + (int)(StableHash(regime) % 3) : i);
    }

    private static uint StableHash(string s)
    {
        uint h = 17;
        foreach (char c in s) h = unchecked(h * 31 + c);
        return h;
    }

    /// <summary>Is a font available to ScottPlot (its default sans-serif name resolves to a non-empty family)?</summary>
    public static bool FontAvailable => !string.IsNullOrWhiteSpace(Fonts.Default);

    /// <summary>
    /// Sharpness (x) against a safety metric (y), one colour per regime, a least-squares line within each regime
    /// (dashed) and over all points pooled (black): Figure 1 of the paper, plus the Simpson's-paradox check.
    /// </summary>
    public static byte[] Scatter(string title, string xLabel, string yLabel, IReadOnlyList<(string Regime, double X, double Y)> points)
    {
        var plot = new Plot();
        foreach (var group in points.GroupBy(p => p.Regime).OrderBy(g => RegimeRank(g.Key)))
        {
            var xs = group.Select(p => p.X).ToArray(); var ys = group.Select(p => p.Y).ToArray();
            var s = plot.Add.ScatterPoints(xs, ys);
            s.Color = ColourOf(group.Key);
            s.MarkerSize = 7;
            s.LegendText = group.Key;
            if (Fit(xs, ys) is { } f)
            {
                var line = plot.Add.Line(xs.Min(), f.A + f.B * xs.Min(), xs.Max(), f.A + f.B * xs.Max());
                line.Color = ColourOf(group.Key);
                line.LinePattern = LinePattern.Dashed;
            }
        }
        if (points.Count > 2 && Fit([.. points.Select(p => p.X)], [.. points.Select(p => p.Y)]) is { } pooled)
        {
            double lo = points.Min(p => p.X), hi = points.Max(p => p.X);
            var line = plot.Add.Line(lo, pooled.A + pooled.B * lo, hi, pooled.A + pooled.B * hi);
            line.Color = Colors.Black;
            line.LineWidth = 2;
            line.LegendText = "pooled";
        }
        Decorate(plot, title, xLabel, yLabel);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Per-regime box plots (quartiles, whiskers to min and max) of one metric.</summary>
    public static byte[] Boxes(string title, string yLabel, IReadOnlyList<(string Regime, IReadOnlyList<double> Values)> groups)
    {
        var plot = new Plot();
        var ticks = new List<Tick>();
        for (int i = 0; i < groups.Count; i++)
        {
            var v = groups[i].Values.Order().ToArray();
            if (v.Length == 0) continue;
            var box = new Box
            {
                Position = i, BoxMin = Statistics.BootstrapInterval.Quantile(v, 0.25), BoxMax = Statistics.BootstrapInterval.Quantile(v, 0.75),
                BoxMiddle = Statistics.BootstrapInterval.Quantile(v, 0.5), WhiskerMin = v[0], WhiskerMax = v[^1],
            };
            var b = plot.Add.Box(box);
            b.FillColor = ColourOf(groups[i].Regime).WithAlpha(0.6);
            var dots = plot.Add.ScatterPoints(Enumerable.Repeat((double)i, v.Length).ToArray(), v);
            dots.Color = Colors.Black; dots.MarkerSize = 3;
            ticks.Add(new Tick(i, groups[i].Regime));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        Decorate(plot, title, "regime", yLabel, legend: false);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Lines y(x), one per regime (training curves, spectral densities).</summary>
    public static byte[] Lines(string title, string xLabel, string yLabel, IReadOnlyList<(string Regime, double[] X, double[] Y)> lines, bool logY = false)
    {
        var plot = new Plot();
        foreach (var (regime, x, y) in lines)
        {
            var yy = logY ? y.Select(v => Math.Log10(Math.Max(v, 1e-12))).ToArray() : y;
            var s = plot.Add.ScatterLine(x, yy);
            s.Color = ColourOf(regime);
            s.LineWidth = 2;
            s.LegendText = regime;
        }
        Decorate(plot, title, xLabel, logY ? $"log10 {yLabel}" : yLabel);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Lines on log-log axes (log10 of x and y), one per named series in its own palette colour (in the given
    /// order, not a regime's), with a marker at each point: e.g. SAM sharpness against rho, one line per target.
    /// Points with x or y not positive cannot be drawn on a log axis and are left out.</summary>
    public static byte[] LogLogLines(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, double[] X, double[] Y)> lines)
    {
        var plot = new Plot();
        for (int i = 0; i < lines.Count; i++)
        {
            var (name, x, y) = lines[i];
            var kept = x.Zip(y).Where(p => p.First > 0 && p.Second > 0).ToList();
            var s = plot.Add.Scatter(kept.Select(p => Math.Log10(p.First)).ToArray(), kept.Select(p => Math.Log10(p.Second)).ToArray());
            s.Color = Palette.GetColor(i);
            s.LineWidth = 2;
            s.MarkerSize = 6;
            s.LegendText = name;
        }
        Decorate(plot, title, $"log10 {xLabel}", $"log10 {yLabel}");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Trajectories y(step), one line per run coloured by its regime (the legend names each regime once), and a
    /// dashed black horizontal line at <paramref name="reference"/> when given (e.g. the edge of stability 2/eta).</summary>
    public static byte[] Trajectories(string title, string xLabel, string yLabel, IReadOnlyList<(string Regime, double[] X, double[] Y)> lines, double? reference, string? referenceLabel)
    {
        var plot = new Plot();
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (regime, x, y) in lines)
        {
            var s = plot.Add.ScatterLine(x, y);
            s.Color = ColourOf(regime);
            s.LineWidth = 1.5f;
            if (named.Add(regime)) s.LegendText = regime;
        }
        if (reference is { } level && lines.Count > 0)
        {
            double lo = lines.Min(l => l.X.Length == 0 ? 0 : l.X.Min()), hi = lines.Max(l => l.X.Length == 0 ? 0 : l.X.Max());
            var r = plot.Add.ScatterLine(new[] { lo, hi }, new[] { level, level });
            r.Color = Colors.Black;
            r.LinePattern = LinePattern.Dashed;
            r.LegendText = referenceLabel ?? "reference";
        }
        Decorate(plot, title, xLabel, yLabel);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static void Decorate(Plot plot, string title, string x, string y, bool legend = true)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        if (legend) plot.ShowLegend(Alignment.UpperRight);
    }

    /// <summary>Least squares y = A + B x; null when x has no spread.</summary>
    private static (double A, double B)? Fit(double[] x, double[] y)
    {
        if (x.Length < 2) return null;
        double mx = x.Average(), my = y.Average();
        double sxx = x.Sum(v => (v - mx) * (v - mx)), sxy = x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum();
        if (sxx <= 0) return null;
        double b1 = sxy / sxx;
        return (my - b1 * mx, b1);
    }
}
