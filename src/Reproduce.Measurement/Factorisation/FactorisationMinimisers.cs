using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Factorisation;

/// <summary>
/// Exact minimisers of deep matrix factorisation (<see cref="DeepMatrixFactorisation"/>) with known sharpness, for a
/// square target M = U diag(s) V^T (d x d, s_1 >= s_2 >= ...) and L square d x d factors. Every construction is
/// "per singular mode": W_1 = R_1 D_1 V^T, W_l = R_l D_l R_{l-1}^T, W_L = U D_L R_{L-1}^T with diagonal D_l = diag(d_{l,i})
/// and prod_l d_{l,i} = s_i, so W_L ... W_1 = U diag(s) V^T = M exactly (up to rounding); R_1..R_{L-1} are orthogonal
/// matrices drawn from the given generator (a random point of each set of minimisers). Then
/// A_l A_l^T = U diag(prod_{k>l} d_{k,i}^2) U^T and B_l^T B_l = V diag(prod_{k&lt;l} d_{k,j}^2) V^T (the R's cancel), so
/// the Hessian's top eigenvalue is 2 max_{i,j} sum_l prod_{k>l} d_{k,i}^2 prod_{k&lt;l} d_{k,j}^2.
/// </summary>
public static class FactorisationMinimisers
{
    /// <summary>
    /// The flattest minimiser: every mode balanced, d_{l,i} = s_i^(1/L). Its sharpness is 2 L s_1^(2 - 2/L), the least
    /// over all minimisers; every factor has spectral norm s_1^(1/L) (spectral-norm balanced) and Frobenius norm
    /// (sum_i s_i^(2/L))^(1/2) (also Frobenius-norm balanced).
    /// </summary>
    public static IReadOnlyList<Tensor> Flattest(Tensor target, int depth, Generator generator)
    {
        var (u, s, v) = Decompose(target, depth);
        var d = new double[depth, s.Length];
        for (int l = 0; l < depth; l++)
            for (int i = 0; i < s.Length; i++) d[l, i] = Math.Pow(s[i], 1.0 / depth);
        return FromModes(u, v, d, generator);
    }

    /// <summary>
    /// A flattest minimiser that is not Frobenius-norm balanced (needs s_2 &lt; s_1): mode 1 balanced (d_{l,1} = s_1^(1/L));
    /// every other mode i puts s_1^(1/L) in the last factor and (s_i / s_1^(1/L))^(1/(L-1)) in each other one, both at
    /// most s_1^(1/L) because s_i &lt;= s_1. Every product of L-1 entries is then at most s_1^(2(L-1)/L), so the top
    /// eigenvalue stays 2 L s_1^(2 - 2/L) (flattest) and every factor's spectral norm is s_1^(1/L) (spectral-norm
    /// balanced), while ||W_L||_F^2 = d s_1^(2/L) exceeds ||W_1||_F^2 whenever some s_i &lt; s_1.
    /// </summary>
    public static IReadOnlyList<Tensor> FlatFrobeniusUnbalanced(Tensor target, int depth, Generator generator)
    {
        var (u, s, v) = Decompose(target, depth);
        if (s.Length < 2 || !(s[1] < s[0])) throw new ArgumentException("A flat minimiser that is not Frobenius-balanced needs a target with s_2 < s_1.", nameof(target));
        var d = new double[depth, s.Length];
        double top = Math.Pow(s[0], 1.0 / depth);
        for (int i = 0; i < s.Length; i++)
            for (int l = 0; l < depth; l++)
                d[l, i] = i == 0 || l == depth - 1 ? top : Math.Pow(s[i] / top, 1.0 / (depth - 1));
        return FromModes(u, v, d, generator);
    }

    /// <summary>
    /// A Frobenius-norm balanced minimiser that is not flattest (needs s_2 > 0): mode 1 unbalanced by beta > 1,
    /// d_{l,1} = s_1^(1/L) beta_l with beta_l = beta^(1 - 2(l-1)/(L-1)) (prod_l beta_l = 1; beta, ..., 1/beta); modes 3.. balanced
    /// (they add the same s_i^(2/L) to every factor's squared Frobenius norm); mode 2 takes d_{l,2} = (F - d_{l,1}^2)^(1/2)
    /// with F the unique root of prod_l (F - d_{l,1}^2) = s_2^2 above max_l d_{l,1}^2, so that every factor has the same
    /// squared Frobenius norm F + sum_{i>=3} s_i^(2/L). The mode-(1,1) term alone gives a top eigenvalue of at least
    /// 2 s_1^(2 - 2/L) sum_l beta_l^(-2) = (flattest) x (1/L) sum_l beta_l^(-2), strictly more than the flattest value for
    /// beta != 1 (x 2.125 at L = 2 and x 1.75 at L = 3 for beta = 2).
    /// </summary>
    public static IReadOnlyList<Tensor> FrobeniusBalanced(Tensor target, int depth, double beta, Generator generator)
    {
        if (!(beta > 1) || !double.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "The mode-1 imbalance beta must be finite and above 1.");
        var (u, s, v) = Decompose(target, depth);
        if (s.Length < 2 || !(s[1] > 0)) throw new ArgumentException("A Frobenius-balanced sharp minimiser needs a target with s_2 > 0 (rank at least 2).", nameof(target));
        var d = new double[depth, s.Length];
        var first = new double[depth];
        for (int l = 0; l < depth; l++)
        {
            first[l] = Math.Pow(s[0], 1.0 / depth) * Math.Pow(beta, 1 - 2.0 * l / (depth - 1));
            d[l, 0] = first[l];
            for (int i = 2; i < s.Length; i++) d[l, i] = Math.Pow(s[i], 1.0 / depth);
        }
        // prod_l (F - first_l^2) increases from 0 (at F = max first^2) past s_2^2 (at F = max first^2 + s_2^(2/L), where
        // every factor is at least s_2^(2/L)); bisection to the last representable bracket.
        double lo = first.Max(x => x * x), hi = lo + Math.Pow(s[1], 2.0 / depth), goal = s[1] * s[1];
        for (int k = 0; k < 200 && hi - lo > 0; k++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (first.Aggregate(1.0, (p, x) => p * (mid - x * x)) < goal) lo = mid; else hi = mid;
        }
        double f = 0.5 * (lo + hi);
        // Mode 2's entries from F, with the last one fixed by the product so that W_L ... W_1 = M holds to rounding.
        double product = 1;
        for (int l = 0; l < depth - 1; l++) { d[l, 1] = Math.Sqrt(f - first[l] * first[l]); product *= d[l, 1]; }
        d[depth - 1, 1] = s[1] / product;
        return FromModes(u, v, d, generator);
    }

    /// <summary>
    /// A minimiser with a prescribed sharpness ratio rho = lambda_max / (flattest value) >= 1: the flattest one with W_1
    /// scaled by a and W_L by 1/a. Each Kronecker term l then scales by prod_{k != l} alpha_k^2 = alpha_l^-2 (alpha_1 = a,
    /// alpha_L = 1/a, the rest 1), uniformly over modes, so lambda_max = (flattest) x (a^-2 + a^2 + L - 2) / L; a^2 is the
    /// root >= 1 of a^2 + a^-2 = L rho - (L - 2).
    /// </summary>
    public static IReadOnlyList<Tensor> Rescaled(Tensor target, int depth, double sharpnessRatio, Generator generator)
    {
        if (!(sharpnessRatio >= 1) || !double.IsFinite(sharpnessRatio))
            throw new ArgumentOutOfRangeException(nameof(sharpnessRatio), sharpnessRatio, "No minimiser is flatter than the flattest: the sharpness ratio must be at least 1.");
        double q = depth * sharpnessRatio - (depth - 2);
        double a = Math.Sqrt((q + Math.Sqrt(Math.Max(q * q - 4, 0))) / 2);
        var flattest = Flattest(target, depth, generator);
        using var scope = NewDisposeScope();
        var scaled = flattest.Select((w, l) => (l == 0 ? w * a : l == depth - 1 ? w / a : w.clone()).DetachFromDisposeScope()).ToList();
        foreach (var w in flattest) w.Dispose();
        return scaled;
    }

    /// <summary>The flattest sharpness ratio a rescaling by <c>a</c> gives (the inverse of <see cref="Rescaled"/>'s solve).</summary>
    public static double RescaledSharpnessRatio(int depth, double a) => (1 / (a * a) + a * a + depth - 2) / depth;

    private static (Tensor U, double[] S, Tensor V) Decompose(Tensor target, int depth)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (depth < 2) throw new ArgumentOutOfRangeException(nameof(depth), depth, "A factorisation has at least two factors.");
        if (target.dim() != 2 || target.shape[0] != target.shape[1]) throw new ArgumentException("The constructions take a square target.", nameof(target));
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(target.detach().to(ScalarType.Float64));
        var values = HostRead.ToArray<double>(s);
        if (!(values[0] > 0)) throw new ArgumentException("The target is zero: every factorisation of it is flat.", nameof(target));
        return (u.MoveToOuterDisposeScope(), values, vh.t().contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>W_1 = R_1 D_1 V^T, W_l = R_l D_l R_{l-1}^T, W_L = U D_L R_{L-1}^T, with R_l orthogonal from QR of seeded
    /// Gaussian matrices (drawn on the CPU, then moved to the target's device).</summary>
    private static IReadOnlyList<Tensor> FromModes(Tensor u, Tensor v, double[,] d, Generator generator)
    {
        int depth = d.GetLength(0), n = d.GetLength(1);
        using var scope = NewDisposeScope();
        var rotations = new Tensor[depth + 1];
        rotations[0] = v;
        rotations[depth] = u;
        for (int l = 1; l < depth; l++)
        {
            var (q, _) = linalg.qr(randn(new long[] { n, n }, dtype: ScalarType.Float64, generator: generator));
            rotations[l] = q.OnDevice(u.device);
        }
        var factors = new List<Tensor>();
        for (int l = 0; l < depth; l++)
        {
            var diagonal = tensor(Enumerable.Range(0, n).Select(i => d[l, i]).ToArray(), dtype: ScalarType.Float64).OnDevice(u.device);
            factors.Add((rotations[l + 1] * diagonal.unsqueeze(0)).mm(rotations[l].t()).MoveToOuterDisposeScope());
        }
        u.Dispose(); v.Dispose();
        return factors;
    }
}
