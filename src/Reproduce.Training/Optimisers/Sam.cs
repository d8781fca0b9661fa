using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// Sharpness-aware minimisation (Foret et al. 2021) around any base optimiser: at w, take g = grad L(w), move to
/// the worst-case point of the rho-ball to first order, w + eps with eps = rho g / ||g||_2 (norm over all
/// parameters together), take the gradient there, step back to w, and let the base optimiser step with that
/// gradient: w &lt;- base_step(w, grad L(w + eps)).
/// </summary>
public sealed class Sam
{
    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly optim.Optimizer _base;

    public Sam(IEnumerable<Tensor> parameters, optim.Optimizer baseOptimizer, double rho)
    {
        if (!(rho > 0)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "SAM's rho must be positive.");
        _parameters = parameters.ToList();
        _base = baseOptimizer ?? throw new ArgumentNullException(nameof(baseOptimizer));
        Rho = rho;
    }

    public double Rho { get; }

    /// <summary>One SAM step. <paramref name="loss"/> recomputes the loss at the current weights; returns L(w).</summary>
    public double Step(Func<Tensor> loss)
    {
        using var scope = NewDisposeScope();
        _base.zero_grad();
        var first = loss();
        double value = first.detach().to(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value)) return value;
        first.backward();
        var grads = _parameters.Select(p => p.grad is null ? zeros_like(p) : p.grad.clone()).ToList();
        double norm = Math.Sqrt(grads.Sum(g => g.square().sum().to(ScalarType.Float64).item<double>()));
        var eps = grads.Select(g => g * (Rho / (norm + 1e-12))).ToList();
        using (no_grad()) for (int i = 0; i < _parameters.Count; i++) _parameters[i].add_(eps[i]);
        _base.zero_grad();
        loss().backward();
        using (no_grad()) for (int i = 0; i < _parameters.Count; i++) _parameters[i].sub_(eps[i]);
        _base.step();
        return value;
    }
}
