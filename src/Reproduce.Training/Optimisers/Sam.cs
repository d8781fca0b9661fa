using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// Sharpness-aware minimisation (Foret et al. 2021) around any base optimiser: at w, take g = grad L(w), move to
/// the worst-case point of the rho-ball to first order, w + eps with eps = rho g / ||g||_2 (norm over all
/// parameters together), take the gradient there, step back to w, and let the base optimiser step with that
/// gradient: w &lt;- base_step(w, grad L(w + eps)).
/// m-sharpness: with micro-batches, each micro-batch j gets its own eps_j from its own gradient, and the step uses
/// the weighted mean of grad L_j(w + eps_j) (weights = micro-batch shares of the batch).
/// </summary>
public sealed class Sam
{
    private readonly IReadOnlyList<Tensor> parameters;
    private readonly optim.Optimizer baseOptimizer;

    public Sam(IEnumerable<Tensor> parameters, optim.Optimizer baseOptimizer, double rho)
    {
        if (!(rho > 0)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "SAM's rho must be positive.");
        this.parameters = parameters.ToList();
        this.baseOptimizer = baseOptimizer ?? throw new ArgumentNullException(nameof(baseOptimizer));
        Rho = rho;
    }

    public double Rho { get; }

    /// <summary>One SAM step. <paramref name="loss"/> recomputes the loss at the current weights; returns L(w).</summary>
    public double Step(Func<Tensor> loss) => Step([(loss, 1.0)]);

    /// <summary>One m-sharpness SAM step over micro-batches (closure, weight); returns the weighted mean of L_j(w).</summary>
    public double Step(IReadOnlyList<(Func<Tensor> Loss, double Weight)> microBatches)
    {
        if (microBatches.Count == 0) throw new ArgumentException("SAM needs at least one (micro-)batch.", nameof(microBatches));
        using var scope = NewDisposeScope();
        var accumulated = parameters.Select(p => zeros_like(p)).ToList();
        double value = 0;
        foreach (var (microLoss, weight) in microBatches)
        {
            baseOptimizer.zero_grad();
            var first = microLoss();
            double v = first.detach().to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(v)) return v;
            value += weight * v;
            first.backward();
            var grads = parameters.Select(p => p.grad is null ? zeros_like(p) : p.grad.clone()).ToList();
            double norm = Math.Sqrt(grads.Sum(g => g.square().sum().to(ScalarType.Float64).item<double>()));
            var eps = grads.Select(g => g * (Rho / (norm + 1e-12))).ToList();
            using (no_grad()) for (int i = 0; i < parameters.Count; i++) parameters[i].add_(eps[i]);
            baseOptimizer.zero_grad();
            microLoss().backward();
            using (no_grad())
                for (int i = 0; i < parameters.Count; i++)
                {
                    parameters[i].sub_(eps[i]);
                    if (parameters[i].grad is { } g) accumulated[i].add_(g, alpha: weight);
                }
        }
        using (no_grad())
            for (int i = 0; i < parameters.Count; i++)
                if (parameters[i].grad is { } g) g.copy_(accumulated[i]);
        baseOptimizer.step();
        return value;
    }
}
