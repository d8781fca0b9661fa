using Reproduce.Claims.Statistics;

namespace Reproduce.Claims.Evaluation;

/// <summary>How often a family yields at least one significant verdict when nothing is going on.</summary>
public sealed record FamilyFalsePositiveRate(string Family, int Tests, int Simulations, int WithAnyRejection)
{
    /// <summary>Fraction of simulated null data sets with at least one rejection (under the complete null, FDR = this).</summary>
    public double Rate => Simulations == 0 ? double.NaN : (double)WithAnyRejection / Simulations;
}

/// <summary>
/// The whole evaluator's false-positive rate on null data built from the stored values themselves: in every
/// comparison tested over models (per-group metrics) the p is drawn from the permutation test's null distribution; in
/// every other comparison each seed's paired difference gets a random sign (under "the regime changes nothing" both signs are
/// equally likely, and the values keep their real scale, ties and zeros); in every correlation the y values are
/// permuted over runs. Each simulated family then goes through the same two-sided tests and the same
/// Benjamini-Yekutieli list as the real verdicts. Under this complete null a family's false discovery rate equals the
/// probability of any rejection, which BY keeps at most alpha; the simulation checks that the implementation does.
/// Seeded: the same outcomes and seed give the same rates.
/// </summary>
public static class NullSimulation
{
    public static IReadOnlyList<FamilyFalsePositiveRate> Run(IReadOnlyList<ClaimOutcome> outcomes, double alpha, int simulations = 1000, int seed = 0,
        Func<IReadOnlyList<double>, double[]>? adjust = null)
    {
        adjust ??= MultipleTesting.BenjaminiYekutieli;
        var rates = new List<FamilyFalsePositiveRate>();
        var families = outcomes.SelectMany(o => o.Comparisons.Select(c => c.Family).Concat(o.Correlations.Select(c => c.Family))).Distinct().Order(StringComparer.Ordinal);
        foreach (var family in families)
        {
            var comps = outcomes.SelectMany(o => o.Comparisons).Where(c => c.Family == family).ToList();
            var cors = outcomes.SelectMany(o => o.Correlations).Where(c => c.Family == family).ToList();
            var random = new Random(unchecked(seed * 7919 + StableHash(family)));
            int any = 0;
            for (int s = 0; s < simulations; s++)
            {
                var p = new List<double>(comps.Count + cors.Count);
                foreach (var c in comps)
                {
                    if (c.Seeds.Count < 2) { p.Add(1.0); continue; }
                    if (Metrics.MetricRegistry.Get(c.Metric) is Metrics.GroupMetric)
                    {
                        // Tested over models (ModelPermutationTest): its p under the null is the permutation distribution's
                        // own. Each of the 2^n swap patterns is equally likely, and a pattern and its complete swap give T and
                        // -T, so the two-sided p of a random pattern is 2k / 2^n with k uniform on 1..2^(n-1) (exact when no
                        // other |T| coincide; coincidences only make p larger, so the simulated rate cannot be too low).
                        // Above 16 seeds the test samples patterns and p is in effect continuous: uniform on (0, 1].
                        if (c.Seeds.Count > 16) { p.Add(1 - random.NextDouble()); continue; }
                        int half = 1 << (c.Seeds.Count - 1);
                        p.Add((random.Next(half) + 1) / (double)half);
                        continue;
                    }
                    var d = c.RegimeValues.Zip(c.ReferenceValues, (x, y) => random.Next(2) == 0 ? x - y : y - x).ToList();
                    p.Add(TwoSided.FromOneSided(WilcoxonSignedRank.TestDifferences(d, Alternative.Greater).PValue, WilcoxonSignedRank.TestDifferences(d, Alternative.Less).PValue));
                }
                foreach (var c in cors)
                {
                    if (c.Points.Count < 3) { p.Add(1.0); continue; }
                    if (c.IsTrend)
                    {
                        // A trend is tested within seed: its null permutes each seed's values over the levels.
                        var blocks = c.Points.GroupBy(q => q.Seed).Select(g =>
                        {
                            var ys = g.Select(q => q.Y).ToArray();
                            random.Shuffle(ys);
                            return ((IReadOnlyList<double>)[.. g.Select(q => q.X)], (IReadOnlyList<double>)ys);
                        }).ToList();
                        p.Add(KendallTau.StratifiedExact(blocks).PValue);
                        continue;
                    }
                    if (c.Rival is not null)
                    {
                        // A stronger-correlation test: under its null neither measure orders the runs by y better, so
                        // each run's two ranks (x's and the rival's, on the one scale ranks give) are exchangeable:
                        // swap them at random, run by run.
                        if (c.Points.Count < KendallTauDifference.MinimumCount) { p.Add(1.0); continue; }
                        var xr = WilcoxonSignedRank.MidRanks([.. c.Points.Select(q => q.X)]);
                        var zr = WilcoxonSignedRank.MidRanks([.. c.Points.Select(q => q.Rival)]);
                        for (int i = 0; i < xr.Length; i++) if (random.Next(2) == 0) (xr[i], zr[i]) = (zr[i], xr[i]);
                        p.Add(KendallTauDifference.Test(xr, zr, [.. c.Points.Select(q => q.Y)]).PValue);
                        continue;
                    }
                    var x = c.Points.Select(q => q.X).ToList();
                    var y = c.Points.Select(q => q.Y).ToArray();
                    random.Shuffle(y);
                    p.Add(TwoSided.FromOneSided(KendallTau.Test(x, y, Alternative.Greater).PValue, KendallTau.Test(x, y, Alternative.Less).PValue));
                }
                if (p.Count > 0 && adjust(p).Any(q => q <= alpha)) any++;
            }
            rates.Add(new FamilyFalsePositiveRate(family, comps.Count + cors.Count, simulations, any));
        }
        return rates;
    }

    // string.GetHashCode and HashCode.Combine are randomised per process; the simulation must not be.
    private static int StableHash(string s)
    {
        unchecked
        {
            int h = 17;
            foreach (char ch in s) h = h * 31 + ch;
            return h;
        }
    }
}
