namespace Reproduce.Claims.Statistics;

/// <summary>
/// Step-up false-discovery-rate adjustments of a family of p-values (adjusted p-values: reject at level alpha iff
/// adjusted p &lt;= alpha).
/// Benjamini-Hochberg (1995): p_adj(i) = min_{j &gt;= i} min(1, m p_(j) / j), valid under independence or positive dependence.
/// Benjamini-Yekutieli (2001): the same times c(m) = sum_{k=1..m} 1/k, valid under any dependence (the paper's choice;
/// our comparisons share baseline runs, so they are dependent).
/// </summary>
public static class MultipleTesting
{
    public static double[] BenjaminiHochberg(IReadOnlyList<double> p) => StepUp(p, 1.0);

    public static double[] BenjaminiYekutieli(IReadOnlyList<double> p)
    {
        double c = 0;
        for (int k = 1; k <= p.Count; k++) c += 1.0 / k;
        return StepUp(p, c);
    }

    private static double[] StepUp(IReadOnlyList<double> p, double factor)
    {
        int m = p.Count;
        if (p.Any(v => double.IsNaN(v) || v < 0 || v > 1)) throw new ArgumentException("p-values must lie in [0, 1].");
        var order = Enumerable.Range(0, m).OrderBy(i => p[i]).ThenBy(i => i).ToArray();
        var adjusted = new double[m];
        double running = 1.0;
        for (int rank = m; rank >= 1; rank--)
        {
            int i = order[rank - 1];
            running = Math.Min(running, Math.Min(1.0, p[i] * m * factor / rank));
            adjusted[i] = running;
        }
        return adjusted;
    }
}
