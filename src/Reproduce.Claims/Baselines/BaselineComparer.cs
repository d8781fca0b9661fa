namespace Reproduce.Claims.Baselines;

/// <summary>
/// Differences between a reviewed baseline and a new snapshot: a verdict change (claim or comparison), a comparison
/// or correlation that appeared or disappeared, or a median (tau) outside its band. Each difference is one readable line.
/// </summary>
public static class BaselineComparer
{
    public static IReadOnlyList<string> Differences(Baseline expected, Baseline actual)
    {
        var diffs = new List<string>();
        if (expected.Verdict != actual.Verdict) diffs.Add($"verdict: baseline '{expected.Verdict}', now '{actual.Verdict}'");
        var now = actual.Comparisons.ToDictionary(c => c.Key);
        foreach (var b in expected.Comparisons)
        {
            if (!now.TryGetValue(b.Key, out var c)) { diffs.Add($"{b.Key}: in the baseline, missing now"); continue; }
            if (b.Verdict != c.Verdict) diffs.Add($"{b.Key}: verdict '{b.Verdict}' -> '{c.Verdict}' (p adj {Format(b.PAdjusted)} -> {Format(c.PAdjusted)})");
            if (!Within(b.ReferenceBand, c.ReferenceMedian)) diffs.Add($"{b.Key}: {b.Reference} median {Format(c.ReferenceMedian)} outside {b.ReferenceBand} (baseline {Format(b.ReferenceMedian)})");
            if (!Within(b.RegimeBand, c.RegimeMedian)) diffs.Add($"{b.Key}: {b.Regime} median {Format(c.RegimeMedian)} outside {b.RegimeBand} (baseline {Format(b.RegimeMedian)})");
        }
        foreach (var c in actual.Comparisons.Where(c => expected.Comparisons.All(b => b.Key != c.Key)))
            diffs.Add($"{c.Key}: new, not in the baseline");
        var nowCor = actual.Correlations.ToDictionary(c => c.Key);
        foreach (var b in expected.Correlations)
        {
            if (!nowCor.TryGetValue(b.Key, out var c)) { diffs.Add($"{b.Key}: in the baseline, missing now"); continue; }
            if (b.Verdict != c.Verdict) diffs.Add($"{b.Key}: verdict '{b.Verdict}' -> '{c.Verdict}'");
            if (!Within(b.TauBand, c.Tau)) diffs.Add($"{b.Key}: tau {Format(c.Tau)} outside {b.TauBand} (baseline {Format(b.Tau)})");
        }
        foreach (var c in actual.Correlations.Where(c => expected.Correlations.All(b => b.Key != c.Key)))
            diffs.Add($"{c.Key}: new, not in the baseline");
        return diffs;
    }

    private static bool Within(Band band, double value) =>
        double.IsNaN(band.Lower) ? double.IsNaN(value) : !double.IsNaN(value) && band.Contains(value);

    private static string Format(double v) => double.IsNaN(v) ? "NaN" : v.ToString("g4", System.Globalization.CultureInfo.InvariantCulture);
}
