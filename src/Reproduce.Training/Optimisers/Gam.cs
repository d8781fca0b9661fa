using Reproduce.Runtime.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// Gradient norm aware minimisation (GAM; Zhang, Xu, Yu, Zou, Cui, CVPR 2023, arXiv 2303.03108, Algorithm 1, the
/// original algorithm with Hessian-vector products; xxgege/GAM releases the accelerated Algorithm 2 of its Appendix D).
/// GAM minimises L(w) + alpha R1_rho(w), with the first-order flatness R1_rho(w) = rho max_{||d|| &lt;= rho} ||grad L(w + d)||.
/// Its gradient is estimated as the paper does: one normalised ascent step on ||grad L|| gives the maximiser, and
/// Danskin's theorem the gradient there, with grad ||grad L|| = H grad L / ||grad L||:
/// <code>
///   g    = grad L(w)
///   f    = H(w) g / (||g|| + xi)                              (= grad ||grad L||(w))
///   wadv = w + rho f / (||f|| + xi)
///   h    = rho H(wadv) grad L(wadv) / (||grad L(wadv)|| + xi)  (= grad R1_rho(w) at the estimated maximiser)
///   w   &lt;- base_step(w, g + alpha h)
/// </code>
/// xi = 1e-12 (<see cref="PerturbedGradientOptimiser.NormFloor"/>). Hessian-vector products are exact double backward:
/// the gradient is taken with create_graph, then H v = grad_w (grad L . v) with v held constant; the parameters'
/// gradients are cleared after each use, which breaks the parameter-gradient reference cycle libtorch warns about.
/// Defaults (chosen before any run, not the paper's: its CIFAR values belong to the accelerated algorithm): rho 0.05,
/// the suite's SAM radius, so GAM's ball is SAM's; alpha 1, which gives the penalty's gradient rho H u the scale of the
/// gradient SAM's own implicit penalty rho ||grad L|| contributes (rho H g / ||g||).
/// Cost: two gradients with graphs and two Hessian-vector products per step (about five gradient evaluations).
/// The step runs inside an allocation-zeroing section, as every curvature product of the suite does.
/// </summary>
public sealed class Gam : PerturbedGradientOptimiser
{
    public Gam(IEnumerable<Parameter> parameters, optim.Optimizer baseOptimiser, double rho, double alpha) : base(parameters, baseOptimiser)
    {
        if (!(rho > 0 && double.IsFinite(rho))) throw new ArgumentOutOfRangeException(nameof(rho), rho, "GAM's rho must be positive and finite.");
        if (!(alpha >= 0 && double.IsFinite(alpha))) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "GAM's alpha must be non-negative and finite.");
        Rho = rho; Alpha = alpha;
    }

    public double Rho { get; }
    public double Alpha { get; }

    protected override IReadOnlyList<Tensor> Gradient(Tensor loss, Func<Tensor> closure)
    {
        // Two double backward passes, the kind of product in which libtorch read stale bytes on one CPU
        // (AllocationZeroing): new tensors are zeros here, as in the measurement's Hessian operator.
        using var zeroing = AllocationZeroing.During();
        var (g, f) = GradientAndNormGradient(loss);
        double fNorm = Norm(f);
        Move([.. f.Select(fi => fi * (Rho / (fNorm + NormFloor)))]);
        var (_, normGradientAdversarial) = GradientAndNormGradient(closure());
        return [.. g.Select((gi, i) => gi + normGradientAdversarial[i] * (Alpha * Rho))];
    }

    /// <summary>grad L and grad ||grad L|| = H grad L / (||grad L|| + xi) at the current weights, as detached copies.</summary>
    private (IReadOnlyList<Tensor> Gradient, IReadOnlyList<Tensor> NormGradient) GradientAndNormGradient(Tensor loss)
    {
        ClearGradients();
        loss.backward(retain_graph: true, create_graph: true);
        var g = Parameters.Select(p => p.grad ?? zeros_like(p)).ToList();
        ClearGradients();
        double norm = Norm(g);
        // s = g . stop_gradient(g) / (||g|| + xi): its gradient in w is H g / (||g|| + xi), g held constant.
        Tensor s = g[0].mul(g[0].detach()).sum();
        for (int i = 1; i < g.Count; i++) s = s + g[i].mul(g[i].detach()).sum();
        s = s / (norm + NormFloor);
        IReadOnlyList<Tensor> normGradient;
        if (s.requires_grad)
        {
            s.backward(retain_graph: true);
            normGradient = [.. Parameters.Select(p => p.grad is { } hg ? hg.detach().clone() : zeros_like(p))];
        }
        else normGradient = [.. Parameters.Select(p => zeros_like(p))];   // a gradient constant in w: H = 0
        ClearGradients();
        return ([.. g.Select(gi => gi.detach().clone())], normGradient);
    }

    private void ClearGradients()
    {
        foreach (var p in Parameters) p.grad = null;
    }
}
