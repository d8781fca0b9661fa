using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// An optimiser whose step gradient is built from the loss re-evaluated at perturbed weights (ASAM, GAM, Frob-SAM,
/// Trace-SAM, Det-SAM):
/// at w it computes a gradient d(w) from L(w) and the loss at points near w, puts the weights back to w exactly, writes
/// d into the parameters' gradients and lets a base optimiser (SGD with the recipe's momentum and weight decay) step
/// with it. It is a <see cref="optim.Optimizer"/>, so it is registered, named and listed like any other optimiser; the
/// base optimiser's parameter groups are its own, so learning-rate schedules act on it unchanged.
/// The trainer recognises it and calls <see cref="Step"/> with the batch's loss at w (already computed for the epoch's
/// log, its graph intact) and a closure that recomputes the batch's loss at the current weights.
/// </summary>
public abstract class PerturbedGradientOptimiser : optim.Optimizer
{
    /// <summary>Added to every norm that divides (||g||, ||T g||): the released codes' small constant, so a zero
    /// gradient gives a zero perturbation instead of NaN.</summary>
    public const double NormFloor = 1e-12;

    protected PerturbedGradientOptimiser(IEnumerable<Parameter> parameters, optim.Optimizer baseOptimiser) : base(IntPtr.Zero)
    {
        Parameters = [.. parameters];
        BaseOptimiser = baseOptimiser ?? throw new ArgumentNullException(nameof(baseOptimiser));
        if (Parameters.Count == 0) throw new ArgumentException("No parameters to optimise.", nameof(parameters));
    }

    /// <summary>The parameters, in the order every per-parameter list below follows.</summary>
    protected IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The optimiser that steps with the built gradient.</summary>
    protected optim.Optimizer BaseOptimiser { get; }

    public override IEnumerable<optim.ILearningRateController> ParamGroups => BaseOptimiser.ParamGroups;

    public override void zero_grad() => BaseOptimiser.zero_grad();

    /// <summary>The torch.optim form: the closure gives L(w) first, then the loss at each perturbed point.</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (closure is null) throw new ArgumentNullException(nameof(closure), $"{GetType().Name} re-evaluates the loss at perturbed weights: it needs a closure.");
        var loss = closure();
        Step(loss, closure);
        return loss.detach();
    }

    /// <summary>
    /// One step: <paramref name="loss"/> is L(w) on the batch with its autograd graph, not yet differentiated;
    /// <paramref name="closure"/> recomputes the batch's loss at the current weights. The weights are back at w (bit for
    /// bit: the perturbation is undone by copying the saved values) before the base optimiser steps.
    /// </summary>
    public void Step(Tensor loss, Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(closure);
        using var scope = NewDisposeScope();
        saved = [.. Parameters.Select(p => p.detach().clone())];
        IReadOnlyList<Tensor> direction;
        try { direction = Gradient(loss, closure); }
        finally { Restore(); saved = null; }
        using (no_grad())
            for (int i = 0; i < Parameters.Count; i++)
            {
                if (Parameters[i].grad is { } g) g.copy_(direction[i]);
                else Parameters[i].grad = direction[i].detach().clone().DetachFromDisposeScope();
            }
        BaseOptimiser.step();
    }

    /// <summary>The step's gradient, one tensor per parameter. The weights may be left perturbed (the caller restores
    /// them); the parameters' gradients may be left in any state (the caller overwrites them).</summary>
    protected abstract IReadOnlyList<Tensor> Gradient(Tensor loss, Func<Tensor> closure);

    /// <summary>grad L at the current weights by backward (the parameters' gradients are zeroed first), as copies.</summary>
    protected IReadOnlyList<Tensor> BackwardGradient(Tensor loss)
    {
        BaseOptimiser.zero_grad();
        loss.backward();
        return [.. Parameters.Select(p => p.grad is { } g ? g.detach().clone() : zeros_like(p))];
    }

    /// <summary>The loss (read in float64) and its gradient (<see cref="BackwardGradient"/>) at w + <paramref name="offset"/>,
    /// the weights then put back to w: one perturbed evaluation of the samplers (Frob-SAM, the universal class).</summary>
    protected (double Loss, IReadOnlyList<Tensor> Gradient) AtOffset(IReadOnlyList<Tensor> offset, Func<Tensor> closure)
    {
        Move(offset);
        var perturbed = closure();
        double value = perturbed.detach().to(ScalarType.Float64).item<double>();
        var gradient = BackwardGradient(perturbed);
        Restore();
        return (value, gradient);
    }

    private List<Tensor>? saved;

    /// <summary>Puts the weights back to w, the values saved when the step began (a copy: no rounding is left behind).</summary>
    protected void Restore()
    {
        if (saved is null) throw new InvalidOperationException("Restore is only valid during a step.");
        using (no_grad()) for (int i = 0; i < Parameters.Count; i++) Parameters[i].copy_(saved[i]);
    }

    /// <summary>Adds <paramref name="offset"/> (one tensor per parameter) to the weights in place.</summary>
    protected void Move(IReadOnlyList<Tensor> offset)
    {
        using (no_grad()) for (int i = 0; i < Parameters.Count; i++) Parameters[i].add_(offset[i]);
    }

    /// <summary>The global l2 norm over all parameters' tensors, sqrt(sum_i ||t_i||^2), in float64.</summary>
    protected static double Norm(IReadOnlyList<Tensor> tensors) =>
        Math.Sqrt(tensors.Sum(t => t.detach().to(ScalarType.Float64).square().sum().item<double>()));

    protected override void Dispose(bool disposing)
    {
        if (disposing) BaseOptimiser.Dispose();
        base.Dispose(disposing);
    }
}
