using System.Globalization;
using Reproduce.Claims.Store;

namespace Reproduce.Claims.Baselines;

/// <summary>How a new snapshot is held to a reviewed baseline.</summary>
public enum BaselineRule
{
    /// <summary>
    /// Same execution environment (TorchSharp, CPU model, device, threads, workers): the suite is deterministic there,
    /// so every per-seed value and every statistic must agree to <see cref="BaselineComparer.RelativeTolerance"/>
    /// (relative to the scale of the comparison's values; p-values absolutely), and every verdict and sign exactly.
    /// </summary>
    Exact,
    /// <summary>
    /// Another environment (other machine, threads or worker split), where float rounding legitimately differs: the claim's
    /// and every comparison's verdict must be the same, the expected direction the same, and the new median difference
    /// must lie inside the baseline's 95% bootstrap interval (so its sign cannot change where that interval excludes
    /// zero); a correlation's tau must lie inside its stored bootstrap interval.
    /// </summary>
    Statistical,
}

/// <summary>
/// Differences between a reviewed baseline and a new snapshot under a rule. Each difference is one readable line; no
/// differences means the claim still holds as reviewed.
/// </summary>
public static class BaselineComparer
{
    public const double RelativeTolerance = 1e-9;

    /// <summary>Exact where the snapshot was produced in the baseline's environment, statistical otherwise.</summary>
    public static BaselineRule RuleFor(Baseline reviewed, ExecutionEnvironment now) => reviewed.Environment == now ? BaselineRule.Exact : BaselineRule.Statistical;

    public static IReadOnlyList<string> Differences(Baseline expected, Baseline actual, BaselineRule rule)
    {
        var diffs = new List<string>();
        if (expected.Verdict != actual.Verdict) diffs.Add($"verdict: baseline '{expected.Verdict}', now '{actual.Verdict}'");
        var now = actual.Comparisons.ToDictionary(c => c.Key);
        foreach (var b in expected.Comparisons)
        {
            if (!now.TryGetValue(b.Key, out var c)) { diffs.Add($"{b.Key}: in the baseline, missing now"); continue; }
            if (b.Expected != c.Expected) diffs.Add($"{b.Key}: expected direction '{b.Expected}' -> '{c.Expected}'");
            if (b.Verdict != c.Verdict) diffs.Add($"{b.Key}: verdict '{b.Verdict}' -> '{c.Verdict}' (p two-sided {F(b.PTwoSided)} -> {F(c.PTwoSided)}, adjusted {F(b.PAdjusted)} -> {F(c.PAdjusted)})");
            if (rule == BaselineRule.Exact) diffs.AddRange(ExactComparison(b, c));
            else
            {
                if (b.Seeds.Count != c.Seeds.Count) diffs.Add($"{b.Key}: {b.Seeds.Count} paired seeds in the baseline, {c.Seeds.Count} now");
                if (b.MedianDifferenceInterval.IsNone ? !double.IsNaN(c.MedianDifference) : !b.MedianDifferenceInterval.Contains(c.MedianDifference))
                    diffs.Add($"{b.Key}: median difference {F(c.MedianDifference)} outside the baseline's bootstrap interval {b.MedianDifferenceInterval} (baseline {F(b.MedianDifference)}, sign {b.Sign:+0;-0;0} -> {c.Sign:+0;-0;0})");
            }
        }
        foreach (var c in actual.Comparisons.Where(c => expected.Comparisons.All(b => b.Key != c.Key)))
            diffs.Add($"{c.Key}: new, not in the baseline");
        var nowCor = actual.Correlations.ToDictionary(c => c.Key);
        foreach (var b in expected.Correlations)
        {
            if (!nowCor.TryGetValue(b.Key, out var c)) { diffs.Add($"{b.Key}: in the baseline, missing now"); continue; }
            if (b.Expected != c.Expected) diffs.Add($"{b.Key}: expected direction '{b.Expected}' -> '{c.Expected}'");
            if (b.Verdict != c.Verdict) diffs.Add($"{b.Key}: verdict '{b.Verdict}' -> '{c.Verdict}'");
            if (rule == BaselineRule.Exact) diffs.AddRange(ExactCorrelation(b, c));
            else if (b.Rival is not null)
            {
                // A stronger-correlation claim: its estimate is the difference of taus, held to its bootstrap interval.
                var interval = b.TauDifferenceInterval ?? new Interval(double.NaN, double.NaN);
                double difference = c.TauDifference ?? double.NaN;
                if (interval.IsNone ? !double.IsNaN(difference) : !interval.Contains(difference))
                    diffs.Add($"{b.Key}: tau difference {F(difference)} outside the baseline's bootstrap interval {interval} (baseline {F(b.TauDifference ?? double.NaN)})");
            }
            else if (b.TauInterval.IsNone ? !double.IsNaN(c.Tau) : !b.TauInterval.Contains(c.Tau))
                diffs.Add($"{b.Key}: tau {F(c.Tau)} outside the baseline's bootstrap interval {b.TauInterval} (baseline {F(b.Tau)})");
        }
        foreach (var c in actual.Correlations.Where(c => expected.Correlations.All(b => b.Key != c.Key)))
            diffs.Add($"{c.Key}: new, not in the baseline");
        diffs.AddRange(BoundDifferences(expected.Bounds ?? [], actual.Bounds ?? [], rule));
        return diffs;
    }

    private static IEnumerable<string> ExactComparison(BaselineComparison b, BaselineComparison c)
    {
        if (!b.Seeds.SequenceEqual(c.Seeds)) { yield return $"{b.Key}: seeds [{string.Join(" ", b.Seeds)}] -> [{string.Join(" ", c.Seeds)}]"; yield break; }
        // Derived statistics (medians, differences, intervals) are sums and differences of the values: their rounding
        // error scales with the largest value, not with themselves.
        double scale = b.ReferenceValues.Concat(b.RegimeValues).Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < b.Seeds.Count; i++)
        {
            if (!Close(b.ReferenceValues[i], c.ReferenceValues[i], 0)) yield return $"{b.Key}: seed {b.Seeds[i]} {b.Reference} {F(b.ReferenceValues[i])} -> {F(c.ReferenceValues[i])}";
            if (!Close(b.RegimeValues[i], c.RegimeValues[i], 0)) yield return $"{b.Key}: seed {b.Seeds[i]} {b.Regime} {F(b.RegimeValues[i])} -> {F(c.RegimeValues[i])}";
        }
        if (b.Sign != c.Sign) yield return $"{b.Key}: sign of the median difference {b.Sign} -> {c.Sign}";
        foreach (var (name, x, y) in new[]
        {
            ("reference median", b.ReferenceMedian, c.ReferenceMedian), ("regime median", b.RegimeMedian, c.RegimeMedian),
            ("median difference", b.MedianDifference, c.MedianDifference),
            ("interval lower", b.MedianDifferenceInterval.Lower, c.MedianDifferenceInterval.Lower), ("interval upper", b.MedianDifferenceInterval.Upper, c.MedianDifferenceInterval.Upper),
        })
            if (!Close(x, y, scale)) yield return $"{b.Key}: {name} {F(x)} -> {F(y)}";
        foreach (var (name, x, y) in new[]
        {
            ("rank-biserial", b.RankBiserial, c.RankBiserial),
            ("rank-biserial interval lower", b.RankBiserialInterval.Lower, c.RankBiserialInterval.Lower), ("rank-biserial interval upper", b.RankBiserialInterval.Upper, c.RankBiserialInterval.Upper), ("p", b.P, c.P), ("p opposite", b.POpposite, c.POpposite),
            ("p two-sided", b.PTwoSided, c.PTwoSided), ("p adjusted", b.PAdjusted, c.PAdjusted),
        })
            if (!Close(x, y, 1)) yield return $"{b.Key}: {name} {F(x)} -> {F(y)}";
        if (!b.UnconvergedReferenceSeeds.SequenceEqual(c.UnconvergedReferenceSeeds) || !b.UnconvergedRegimeSeeds.SequenceEqual(c.UnconvergedRegimeSeeds))
            yield return $"{b.Key}: unconverged estimates changed";
    }

    private static IEnumerable<string> ExactCorrelation(BaselineCorrelation b, BaselineCorrelation c)
    {
        if (b.Points.Count != c.Points.Count) { yield return $"{b.Key}: {b.Points.Count} runs -> {c.Points.Count}"; yield break; }
        for (int i = 0; i < b.Points.Count; i++)
        {
            var (p, q) = (b.Points[i], c.Points[i]);
            if (p.Regime != q.Regime || p.Seed != q.Seed) { yield return $"{b.Key}: run {i} {p.Regime}/{p.Seed} -> {q.Regime}/{q.Seed}"; continue; }
            if (!Close(p.X, q.X, 0) || !Close(p.Y, q.Y, 0)) yield return $"{b.Key}: {p.Regime} seed {p.Seed} ({F(p.X)}, {F(p.Y)}) -> ({F(q.X)}, {F(q.Y)})";
            if (p.Rival is { } br && q.Rival is { } cr && !Close(br, cr, 0)) yield return $"{b.Key}: {p.Regime} seed {p.Seed} {b.Rival} {F(br)} -> {F(cr)}";
        }
        if (b.Rival is not null)
            foreach (var (name, x, y) in new[]
            {
                ("rival tau", b.RivalTau ?? double.NaN, c.RivalTau ?? double.NaN), ("tau difference", b.TauDifference ?? double.NaN, c.TauDifference ?? double.NaN),
                ("tau difference standard error", b.TauDifferenceStandardError ?? double.NaN, c.TauDifferenceStandardError ?? double.NaN),
                ("tau difference interval lower", b.TauDifferenceInterval?.Lower ?? double.NaN, c.TauDifferenceInterval?.Lower ?? double.NaN),
                ("tau difference interval upper", b.TauDifferenceInterval?.Upper ?? double.NaN, c.TauDifferenceInterval?.Upper ?? double.NaN),
            })
                if (!Close(x, y, 1)) yield return $"{b.Key}: {name} {F(x)} -> {F(y)}";
        foreach (var (name, x, y) in new[]
        {
            ("tau", b.Tau, c.Tau), ("tau interval lower", b.TauInterval.Lower, c.TauInterval.Lower), ("tau interval upper", b.TauInterval.Upper, c.TauInterval.Upper),
            ("p", b.P, c.P), ("p opposite", b.POpposite, c.POpposite), ("p two-sided", b.PTwoSided, c.PTwoSided), ("p adjusted", b.PAdjusted, c.PAdjusted),
        })
            if (!Close(x, y, 1)) yield return $"{b.Key}: {name} {F(x)} -> {F(y)}";
    }

    /// <summary>
    /// Bound cells (their key holds the interval, so a changed interval reads as one cell missing and one new). Both
    /// rules: the verdict and the seeds outside. Exact: the seeds and every value to <see cref="RelativeTolerance"/>;
    /// statistical: the number of seeds (the values may round differently; the verdict is what the claim says).
    /// </summary>
    private static IEnumerable<string> BoundDifferences(IReadOnlyList<BaselineBound> expected, IReadOnlyList<BaselineBound> actual, BaselineRule rule)
    {
        var now = actual.ToDictionary(b => b.Key);
        foreach (var b in expected)
        {
            if (!now.TryGetValue(b.Key, out var c)) { yield return $"{b.Key}: in the baseline, missing now"; continue; }
            if (b.Verdict != c.Verdict) yield return $"{b.Key}: verdict '{b.Verdict}' -> '{c.Verdict}'";
            if (!b.OutsideSeeds.SequenceEqual(c.OutsideSeeds)) yield return $"{b.Key}: seeds outside [{string.Join(" ", b.OutsideSeeds)}] -> [{string.Join(" ", c.OutsideSeeds)}]";
            if (rule == BaselineRule.Exact)
            {
                if (!b.Seeds.SequenceEqual(c.Seeds)) { yield return $"{b.Key}: seeds [{string.Join(" ", b.Seeds)}] -> [{string.Join(" ", c.Seeds)}]"; continue; }
                for (int i = 0; i < b.Seeds.Count; i++)
                    if (!Close(b.Values[i], c.Values[i], 0)) yield return $"{b.Key}: seed {b.Seeds[i]} {F(b.Values[i])} -> {F(c.Values[i])}";
            }
            else if (b.Seeds.Count != c.Seeds.Count) yield return $"{b.Key}: {b.Seeds.Count} seeds in the baseline, {c.Seeds.Count} now";
        }
        foreach (var c in actual.Where(c => expected.All(b => b.Key != c.Key)))
            yield return $"{c.Key}: new, not in the baseline";
    }

    /// <summary>|a - b| &lt;= tol * max(|a|, |b|, scale); NaN equals only NaN.</summary>
    public static bool Close(double a, double b, double scale)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.IsNaN(a) && double.IsNaN(b);
        if (a == b) return true;
        return Math.Abs(a - b) <= RelativeTolerance * Math.Max(Math.Max(Math.Abs(a), Math.Abs(b)), scale);
    }

    private static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("g6", CultureInfo.InvariantCulture);
}
