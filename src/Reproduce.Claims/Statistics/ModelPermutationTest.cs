namespace Reproduce.Claims.Statistics;

/// <summary>The outcome of a <see cref="ModelPermutationTest"/>: T, its one- and two-sided p's, and how the null was formed.</summary>
/// <param name="Seeds">n, the number of seed pairs (A_s, R_s).</param>
/// <param name="Statistic">T = mean_{s&lt;t} d(A_s, A_t) - mean_{s&lt;t} d(R_s, R_t): the claimed side's mean pairwise value minus the reference side's.</param>
/// <param name="PTwoSided">#{|T_perm| &gt;= |T|} / permutations.</param>
/// <param name="PGreater">#{T_perm &gt;= T} / permutations: evidence that the claimed side's value is greater.</param>
/// <param name="PLess">#{T_perm &lt;= T} / permutations: evidence that it is less.</param>
/// <param name="Permutations">How many swap patterns the null distribution holds (2^n when exact).</param>
/// <param name="Exact">True when every one of the 2^n patterns was enumerated; false for a seeded Monte Carlo sample.</param>
public sealed record ModelPermutationResult(int Seeds, double Statistic, double PTwoSided, double PGreater, double PLess, int Permutations, bool Exact)
{
    public string Method => Exact ? $"exact (all {Permutations} swap patterns)" : $"Monte Carlo ({Permutations} swap patterns, seeded)";
}

/// <summary>
/// Paired permutation test over models for a statistic defined on pairs of models (prediction disagreement,
/// Jensen-Shannon divergence). There is one model per (regime, seed): A_s of the claimed regime and R_s of the
/// reference, s = 1..n, and a symmetric pairwise value d(i, j) of two models. The statistic is
/// T = mean_{s&lt;t} d(A_s, A_t) - mean_{s&lt;t} d(R_s, R_t).
///
/// <para>Why not a paired test on per-seed values: a per-seed value "mean d with the other seeds of the regime" shares
/// models with every other seed's value, so the n values are not independent replicates and a signed-rank test over
/// them gives p-values that are too small. The models are the replicates. Null hypothesis: within each seed the two
/// regime labels are exchangeable (the seed fixes initialisation and data order, so A_s and R_s are a pair), so
/// swapping A_s and R_s for any subset of seeds gives an equally likely labelling. The null distribution of T is the
/// set of its values over the 2^n swap patterns, which needs the cross-regime values d(A_s, R_t) as well: the input
/// is the full pairwise matrix over the 2n models.</para>
///
/// <para>Exact for n &lt;= <see cref="ExactLimit"/> (2^16 patterns at most): every pattern, the identity included.
/// Above, a seeded Monte Carlo sample: the identity, and <c>samples</c> uniformly random patterns, each with its
/// complement. Swapping every seed exchanges the two sides, so the complement of a pattern has T exactly negated
/// (the code sums the same matrix entries in the same order for both sides, so the negation is bit-exact); the null
/// distribution is therefore symmetric about 0 in both modes, and PTwoSided = min(1, 2 min(PGreater, PLess)).</para>
///
/// <para>Ties: T values computed from different pairs may differ from equal ones by rounding, so a permuted value
/// counts as at least as extreme when it is within <see cref="RelativeTolerance"/> times the largest |d| used of the
/// observed one (T_perm &gt;= T - tol, T_perm &lt;= T + tol, |T_perm| &gt;= |T| - tol). The identity always counts,
/// so every p is in [1/permutations, 1].</para>
/// </summary>
public static class ModelPermutationTest
{
    /// <summary>Largest n enumerated exactly (2^16 = 65,536 patterns).</summary>
    public const int ExactLimit = 16;

    /// <summary>Random patterns drawn above <see cref="ExactLimit"/> (each also with its complement).</summary>
    public const int DefaultSamples = 20_000;

    /// <summary>Tie tolerance, relative to the largest |d(i, j)| that enters T.</summary>
    public const double RelativeTolerance = 1e-10;

    /// <summary>
    /// Runs the test. <paramref name="pairwise"/> is the square matrix of d over all models (symmetric; the diagonal is
    /// not used); <paramref name="pairs"/> names, per seed, the row of its claimed-regime model and of its reference
    /// model. For n &gt; <see cref="ExactLimit"/>, <paramref name="samples"/> random patterns from <paramref name="seed"/>.
    /// </summary>
    public static ModelPermutationResult Test(double[,] pairwise, IReadOnlyList<(int Claimed, int Reference)> pairs, int samples = DefaultSamples, int seed = 0)
    {
        var quad = Quadruples(pairwise, pairs);
        int n = pairs.Count;
        double observed = Statistic(quad, n, new bool[n]);
        double tolerance = RelativeTolerance * quad.Max;
        int greater = 0, less = 0, extreme = 0, permutations = 0;
        void Count(double t)
        {
            permutations++;
            if (t >= observed - tolerance) greater++;
            if (t <= observed + tolerance) less++;
            if (Math.Abs(t) >= Math.Abs(observed) - tolerance) extreme++;
        }
        var swapped = new bool[n];
        bool exact = n <= ExactLimit;
        if (exact)
        {
            for (int mask = 0; mask < 1 << n; mask++)
            {
                for (int s = 0; s < n; s++) swapped[s] = (mask >> s & 1) == 1;
                Count(Statistic(quad, n, swapped));
            }
        }
        else
        {
            if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), $"{samples}: the Monte Carlo test needs at least one random pattern.");
            // The identity and its complement, then random patterns with their complements: a symmetric sample.
            Count(observed);
            Count(-observed);
            var rng = new Random(seed);
            for (int k = 0; k < samples; k++)
            {
                for (int s = 0; s < n; s++) swapped[s] = rng.Next(2) == 1;
                double t = Statistic(quad, n, swapped);
                Count(t);
                for (int s = 0; s < n; s++) swapped[s] = !swapped[s];
                Count(Statistic(quad, n, swapped));
            }
        }
        return new ModelPermutationResult(n, observed, (double)extreme / permutations, (double)greater / permutations, (double)less / permutations, permutations, exact);
    }

    /// <summary>
    /// Seeded percentile bootstrap interval of T over seeds: resample the n seed pairs with replacement and recompute T
    /// over the pairs of resampled seeds that are distinct seeds (a model paired with itself has d = 0 and is no
    /// replicate); the estimate is the observed T. Descriptive, like the median-difference interval of the signed-rank
    /// comparisons (it is what the statistical baseline rule holds a re-run's T to).
    /// </summary>
    public static ConfidenceInterval Interval(double[,] pairwise, IReadOnlyList<(int Claimed, int Reference)> pairs, int resamples = 10_000, double level = 0.95, int seed = 0)
    {
        var quad = Quadruples(pairwise, pairs);
        return BootstrapInterval.Percentile(Enumerable.Range(0, pairs.Count).ToList(), sample =>
        {
            double claimed = 0, reference = 0;
            int count = 0;
            for (int k = 0; k < sample.Count; k++)
                for (int l = k + 1; l < sample.Count; l++)
                {
                    // The pair values are held for s < t only (d is symmetric): read the pair in that order.
                    int s = Math.Min(sample[k], sample[l]), t = Math.Max(sample[k], sample[l]);
                    if (s == t) continue;
                    claimed += quad.Get(s, t, false, false);
                    reference += quad.Get(s, t, true, true);
                    count++;
                }
            return count == 0 ? double.NaN : (claimed - reference) / count;
        }, resamples, level, seed);
    }

    /// <summary>
    /// T for a swap pattern: seed s contributes its claimed model A_s to the "claimed" side unless swapped (then R_s).
    /// Both side sums run over s &lt; t in the same order, so the complementary pattern gives exactly -T.
    /// </summary>
    private static double Statistic(PairValues quad, int n, bool[] swapped)
    {
        double claimed = 0, reference = 0;
        for (int s = 0; s < n; s++)
            for (int t = s + 1; t < n; t++)
            {
                claimed += quad.Get(s, t, swapped[s], swapped[t]);
                reference += quad.Get(s, t, !swapped[s], !swapped[t]);
            }
        return (claimed - reference) / (n * (n - 1) / 2);
    }

    /// <summary>For each seed pair s &lt; t the four values d(X_s, Y_t), X, Y in {A, R}, read once from the upper triangle.</summary>
    private sealed class PairValues(int n)
    {
        private readonly double[] values = new double[n * n * 4];
        public double Max { get; private set; }
        private int Index(int s, int t, bool sR, bool tR) => ((s * n + t) * 2 + (sR ? 1 : 0)) * 2 + (tR ? 1 : 0);
        /// <summary>d(side of s, side of t), where true means the reference model R, false the claimed model A.</summary>
        public double Get(int s, int t, bool sReference, bool tReference) => values[Index(s, t, sReference, tReference)];
        public void Set(int s, int t, bool sReference, bool tReference, double v) { values[Index(s, t, sReference, tReference)] = v; Max = Math.Max(Max, Math.Abs(v)); }
    }

    private static PairValues Quadruples(double[,] pairwise, IReadOnlyList<(int Claimed, int Reference)> pairs)
    {
        int size = pairwise.GetLength(0), n = pairs.Count;
        if (pairwise.GetLength(1) != size) throw new ArgumentException($"The pairwise matrix must be square; it is {size} x {pairwise.GetLength(1)}.");
        if (n < 2) throw new ArgumentException($"The model permutation test needs at least two seeds; got {n}.");
        var rows = pairs.SelectMany(p => new[] { p.Claimed, p.Reference }).ToList();
        if (rows.Any(r => r < 0 || r >= size)) throw new ArgumentException($"A seed pair names a model outside the {size} x {size} matrix.");
        if (rows.Distinct().Count() != rows.Count) throw new ArgumentException("Each model must belong to exactly one seed and one side.");
        var quad = new PairValues(n);
        for (int s = 0; s < n; s++)
            for (int t = s + 1; t < n; t++)
                foreach (bool sR in new[] { false, true })
                    foreach (bool tR in new[] { false, true })
                    {
                        int i = sR ? pairs[s].Reference : pairs[s].Claimed, j = tR ? pairs[t].Reference : pairs[t].Claimed;
                        double upper = pairwise[Math.Min(i, j), Math.Max(i, j)], lower = pairwise[Math.Max(i, j), Math.Min(i, j)];
                        if (!double.IsFinite(upper) || !double.IsFinite(lower)) throw new ArgumentException($"d({i}, {j}) is NaN or infinite.");
                        // d must be symmetric; a mismatch beyond rounding means the matrix was filled wrongly.
                        if (Math.Abs(upper - lower) > 1e-12 * Math.Max(1, Math.Max(Math.Abs(upper), Math.Abs(lower))))
                            throw new ArgumentException($"The pairwise matrix is not symmetric: d({i}, {j}) = {upper} but d({j}, {i}) = {lower}.");
                        quad.Set(s, t, sR, tR, upper);
                    }
        return quad;
    }
}
