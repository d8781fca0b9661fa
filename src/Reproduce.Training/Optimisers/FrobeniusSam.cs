using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// Frob-SAM (Tahmasebi, Soleymani, Bahri, Jegelka, Jaillet, "A Universal Class of Sharpness-Aware Minimization
/// Algorithms", ICML 2024, arXiv 2406.03682; the released FROSAM in dbahri/universal_sam solver/sam.py): the member of
/// the universal class whose sharpness is the Hessian's squared Frobenius norm. It minimises
/// <code>
///   L(w) + (lambda / (2 rho^2)) Var_k[ L(w + rho d_k) ],   d_k ~ N(0, I), k = 1..n   (unbiased sample variance)
/// </code>
/// At a critical point L(w + rho d) - L(w) = (rho^2 / 2) d^T H d to leading order, and Var[d^T H d] = 2 ||H||_F^2 for
/// Gaussian d, so the variance is (rho^4 / 2) ||H||_F^2 and the penalty (lambda rho^2 / 4) ||H||_F^2 (away from a
/// critical point rho^2 ||g||^2 joins the variance: Var[g^T d] = ||g||^2, the cross term has odd moments). Its gradient,
/// with L_k = L(w + rho d_k), G_k = grad L(w + rho d_k) and Lbar the mean of the L_k, is the code's
/// <code>
///   d(w) = grad L(w) + (lambda / rho^2) (1 / (n - 1)) [ sum_k L_k G_k - Lbar sum_k G_k ]
/// </code>
/// (for n = 2: grad L(w) + (lambda / (2 rho^2)) (L_1 - L_2)(G_1 - G_2)); the base optimiser steps with d(w).
/// The draws d_k are standard normal per coordinate (the code's _sample_gaussian), from a CPU generator seeded by the
/// run's seed (offset so that it is not the trainer's shuffle stream), drawn parameter by parameter, then moved to the
/// parameter's device. The released code keeps g0 as a reference to p.grad and then zeroes the gradients; under
/// PyTorch's set_to_none default that reference keeps grad L(w), which is what this class uses.
/// Defaults: the README's MNIST MLP run (rho 0.01, lambda 0.005, n 2).
/// </summary>
public class FrobeniusSam : PerturbedGradientOptimiser
{
    /// <summary>Added to the run's seed for the perturbation generator, so its stream differs from the trainer's.</summary>
    public const long SeedOffset = 0x5F0B5A;

    private readonly Generator generator;

    public FrobeniusSam(IEnumerable<Parameter> parameters, optim.Optimizer baseOptimiser, double rho, double lambda, int samples, long seed) : base(parameters, baseOptimiser)
    {
        if (!(rho > 0 && double.IsFinite(rho))) throw new ArgumentOutOfRangeException(nameof(rho), rho, "Frob-SAM's rho must be positive and finite.");
        if (!(lambda >= 0 && double.IsFinite(lambda))) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Frob-SAM's lambda must be non-negative and finite.");
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "Frob-SAM's sample variance needs at least 2 perturbations.");
        Rho = rho; Lambda = lambda; Samples = samples;
        generator = new Generator((ulong)(seed + SeedOffset));
    }

    public double Rho { get; }
    public double Lambda { get; }
    public int Samples { get; }

    /// <summary>The perturbation direction d_k for every parameter (before scaling by rho): N(0, I) from the seeded
    /// generator, one draw of each parameter's shape in parameter order.</summary>
    protected virtual IReadOnlyList<Tensor> Draw() =>
        [.. Parameters.Select(p => randn(p.shape, dtype: p.dtype, generator: generator).to(p.device))];

    protected override IReadOnlyList<Tensor> Gradient(Tensor loss, Func<Tensor> closure)
    {
        var g0 = BackwardGradient(loss);
        var cross = Parameters.Select(p => zeros_like(p)).ToList();
        var sum = Parameters.Select(p => zeros_like(p)).ToList();
        double lossSum = 0;
        for (int k = 0; k < Samples; k++)
        {
            var (value, gk) = AtOffset([.. Draw().Select(d => d * Rho)], closure);
            for (int i = 0; i < gk.Count; i++) { cross[i].add_(gk[i], alpha: value); sum[i].add_(gk[i]); }
            lossSum += value;
        }
        double mean = lossSum / Samples, scale = Lambda / (Rho * Rho) / (Samples - 1);
        return [.. g0.Select((g, i) => g + (cross[i] - sum[i] * mean) * scale)];
    }
}
