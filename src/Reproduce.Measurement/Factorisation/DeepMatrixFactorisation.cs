using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Hessian;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Factorisation;

/// <summary>
/// Deep matrix factorisation (Kamber and Parhi, arXiv 2509.25783): factors W_1 (d_1 x d_0) ... W_L (d_L x d_{L-1}), a
/// target M (d_L x d_0) and the paper's loss L(W) = ||W_L ... W_1 - M||_F^2 (no 1/2). Write P = W_L ... W_1,
/// R = P - M, A_l = W_L ... W_{l+1} (d_L x d_l; the identity for l = L) and B_l = W_{l-1} ... W_1 (d_{l-1} x d_0; the
/// identity for l = 1), so that P = A_l W_l B_l for every l.
/// <para>Gradient: dL/dW_l = 2 A_l^T R B_l^T. Hessian: H = 2 J^T J + 2 (R-weighted second derivatives of P), with
/// J(U_1..U_L) = sum_l A_l U_l B_l. At a minimiser (R = 0) H = 2 J^T J, whose non-zero spectrum is that of 2 J J^T, the
/// operator E -> 2 sum_l (A_l A_l^T) E (B_l^T B_l) on d_L x d_0 matrices: in row-major vec form the symmetric matrix
/// 2 sum_l (A_l A_l^T) (x) (B_l^T B_l). Hence the exact sharpness at any minimiser, any depth and widths:
/// lambda_max(H) = 2 lambda_max(sum_l (A_l A_l^T) (x) (B_l^T B_l)) (<see cref="TopHessianEigenvalue"/>), a (d_L d_0)-sized
/// eigenproblem instead of one over all parameters.</para>
/// <para>Depth 2: A_1 = W_2, B_1 = I, A_2 = I, B_2 = W_1, so the operator is the Kronecker sum W_2 W_2^T (+) W_1^T W_1 and
/// lambda_max = 2 (||W_1||_2^2 + ||W_2||_2^2) (<see cref="DepthTwoTopHessianEigenvalue"/>). Since ||W_1||_2 ||W_2||_2 >=
/// ||M||_2, this is >= 4 ||M||_2, with equality iff ||W_1||_2 = ||W_2||_2 = ||M||_2^(1/2): at depth 2 a minimiser is
/// flattest iff it is spectral-norm balanced at that level, whatever its Frobenius norms.</para>
/// <para>Any depth (the flattest value, <see cref="FlattestTopHessianEigenvalue"/>): with u, v the top singular vectors
/// of M, a_l = A_l^T u and b_l = B_l v, the rank-one direction E = u v^T gives lambda_max(H) >= 2 sum_l ||a_l||^2 ||b_l||^2.
/// Since a_{l-1}^T b_l = u^T M v = sigma_1 for l = 2..L, prod_l ||a_l|| ||b_l|| >= sigma_1^(L-1) (||a_L|| = ||b_1|| = 1),
/// and AM-GM gives lambda_max(H) >= 2 L sigma_1^(2 - 2/L); the balanced SVD factorisation attains it
/// (<see cref="FactorisationMinimisers.Flattest"/>).</para>
/// Every routine computes in float64 on copies: the caller's tensors are read, never changed.
/// </summary>
public static class DeepMatrixFactorisation
{
    /// <summary>P = W_L ... W_1 (W_1 first in the list).</summary>
    public static Tensor Product(IReadOnlyList<Tensor> factors)
    {
        Check(factors);
        var p = AsDouble(factors[0]);
        for (int l = 1; l < factors.Count; l++) p = AsDouble(factors[l]).mm(p);
        return p;
    }

    /// <summary>The paper's loss ||W_L ... W_1 - M||_F^2.</summary>
    public static double Loss(IReadOnlyList<Tensor> factors, Tensor target)
    {
        using var scope = NewDisposeScope();
        return (Product(factors) - AsDouble(target)).square().sum().item<double>();
    }

    /// <summary>dL/dW_l = 2 A_l^T (P - M) B_l^T for l = 1..L.</summary>
    public static IReadOnlyList<Tensor> Gradient(IReadOnlyList<Tensor> factors, Tensor target)
    {
        Check(factors);
        var (left, right) = Partials(factors);
        var residual = Product(factors) - AsDouble(target);
        return [.. Enumerable.Range(0, factors.Count).Select(l => 2 * left[l].t().mm(residual).mm(right[l].t()))];
    }

    /// <summary>The exact top Hessian eigenvalue of the loss at a minimiser (any depth, any widths):
    /// 2 lambda_max(sum_l (A_l A_l^T) (x) (B_l^T B_l)). At a point with residual R it is the top eigenvalue of the
    /// Gauss–Newton part 2 J^T J, which differs from the Hessian's by at most the norm of the residual term.</summary>
    public static double TopHessianEigenvalue(IReadOnlyList<Tensor> factors)
    {
        Check(factors);
        using var scope = NewDisposeScope();
        var (left, right) = Partials(factors);
        Tensor? sum = null;
        for (int l = 0; l < factors.Count; l++)
        {
            var term = kron(left[l].mm(left[l].t()), right[l].t().mm(right[l]));
            sum = sum is null ? term : sum + term;
        }
        // Symmetrise against rounding before the symmetric eigensolver.
        var symmetric = (sum! + sum!.t()) / 2;
        return 2 * linalg.eigvalsh(symmetric).max().item<double>();
    }

    /// <summary>Depth 2: lambda_max(H) = 2 (||W_1||_2^2 + ||W_2||_2^2) at a minimiser.</summary>
    public static double DepthTwoTopHessianEigenvalue(Tensor w1, Tensor w2)
    {
        using var scope = NewDisposeScope();
        double n1 = SpectralNorm(w1), n2 = SpectralNorm(w2);
        return 2 * (n1 * n1 + n2 * n2);
    }

    /// <summary>The least top Hessian eigenvalue over all depth-L minimisers of target M: 2 L ||M||_2^(2 - 2/L).</summary>
    public static double FlattestTopHessianEigenvalue(Tensor target, int depth)
    {
        if (depth < 2) throw new ArgumentOutOfRangeException(nameof(depth), depth, "A factorisation has at least two factors.");
        using var scope = NewDisposeScope();
        return 2 * depth * Math.Pow(SpectralNorm(target), 2 - 2.0 / depth);
    }

    /// <summary>max_l ||W_l||_2 / min_l ||W_l||_2 - 1: zero iff the factors are spectral-norm balanced.</summary>
    public static double SpectralImbalance(IReadOnlyList<Tensor> factors) => Imbalance(factors, SpectralNorm);

    /// <summary>max_l ||W_l||_F / min_l ||W_l||_F - 1: zero iff the factors are Frobenius-norm balanced.</summary>
    public static double FrobeniusImbalance(IReadOnlyList<Tensor> factors) => Imbalance(factors, FrobeniusNorm);

    public static double SpectralNorm(Tensor w)
    {
        using var scope = NewDisposeScope();
        return linalg.matrix_norm(AsDouble(w), 2).item<double>();
    }

    public static double FrobeniusNorm(Tensor w)
    {
        using var scope = NewDisposeScope();
        return AsDouble(w).square().sum().sqrt().item<double>();
    }

    /// <summary>The loss as an objective of the given parameter tensors (each must require grad), for the Hessian
    /// operator: its Hessian-vector products are autograd's, independent of every closed form here.</summary>
    public static FunctionObjective Objective(IReadOnlyList<Tensor> parameters, Tensor target)
    {
        Check(parameters);
        var m = target.to(parameters[0].dtype).to(parameters[0].device);
        return new FunctionObjective(parameters, () =>
        {
            var p = parameters[0];
            for (int l = 1; l < parameters.Count; l++) p = parameters[l].mm(p);
            return (p - m).square().sum();
        });
    }

    /// <summary>
    /// Plain full-batch gradient descent on the loss, W_l &lt;- W_l - lr dL/dW_l (all factors from the same iterate), for
    /// <paramref name="steps"/> steps from copies of <paramref name="start"/>, in float64. Stops early, with
    /// <see cref="GradientDescentRun.Finite"/> false, when an iterate is no longer finite.
    /// </summary>
    public static GradientDescentRun GradientDescent(IReadOnlyList<Tensor> start, Tensor target, double learningRate, int steps)
    {
        Check(start);
        if (!(learningRate > 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive.");
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Steps must be non-negative.");
        var m = AsDouble(target);
        var w = start.Select(f => AsDouble(f).clone().DetachFromDisposeScope()).ToList();
        for (int t = 0; t < steps; t++)
        {
            using var scope = NewDisposeScope();
            var g = Gradient(w, m);
            var next = w.Select((f, l) => (f - learningRate * g[l]).DetachFromDisposeScope()).ToList();
            foreach (var f in w) f.Dispose();
            w = next;
            if (!w.All(f => f.isfinite().all().item<bool>())) return new GradientDescentRun(w, t + 1, false);
        }
        return new GradientDescentRun(w, steps, true);
    }

    /// <summary>The left products A_l = W_L ... W_{l+1} and right products B_l = W_{l-1} ... W_1, l = 1..L (index l - 1).</summary>
    private static (Tensor[] Left, Tensor[] Right) Partials(IReadOnlyList<Tensor> factors)
    {
        int depth = factors.Count;
        var w = factors.Select(AsDouble).ToArray();
        var left = new Tensor[depth];
        var right = new Tensor[depth];
        right[0] = eye(w[0].shape[1], dtype: ScalarType.Float64, device: w[0].device);
        for (int l = 1; l < depth; l++) right[l] = w[l - 1].mm(right[l - 1]);
        left[depth - 1] = eye(w[depth - 1].shape[0], dtype: ScalarType.Float64, device: w[0].device);
        for (int l = depth - 2; l >= 0; l--) left[l] = left[l + 1].mm(w[l + 1]);
        return (left, right);
    }

    private static double Imbalance(IReadOnlyList<Tensor> factors, Func<Tensor, double> norm)
    {
        Check(factors);
        var norms = factors.Select(norm).ToList();
        return norms.Max() / norms.Min() - 1;
    }

    private static Tensor AsDouble(Tensor t) => t.detach().to(ScalarType.Float64);

    private static void Check(IReadOnlyList<Tensor> factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        if (factors.Count < 2) throw new ArgumentException($"A factorisation has at least two factors; got {factors.Count}.", nameof(factors));
        for (int l = 0; l < factors.Count; l++)
        {
            if (factors[l].dim() != 2) throw new ArgumentException($"Factor W_{l + 1} is not a matrix.", nameof(factors));
            if (l > 0 && factors[l].shape[1] != factors[l - 1].shape[0])
                throw new ArgumentException($"Factor W_{l + 1} has {factors[l].shape[1]} columns but W_{l} has {factors[l - 1].shape[0]} rows.", nameof(factors));
        }
    }
}

/// <summary>The end point of <see cref="DeepMatrixFactorisation.GradientDescent"/> (factors owned by the caller), the
/// steps taken, and whether every iterate stayed finite.</summary>
public sealed record GradientDescentRun(IReadOnlyList<Tensor> Factors, int Steps, bool Finite) : IDisposable
{
    public void Dispose() { foreach (var f in Factors) f.Dispose(); }
}
