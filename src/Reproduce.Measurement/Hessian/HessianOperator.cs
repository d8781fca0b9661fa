using TorchSharp;
using Reproduce.Measurement.Autograd;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// The exact Hessian H = d^2 L / d theta^2 of an objective, applied by double backward (Pearlmutter's trick):
/// H v = d/d theta (grad L(theta) . v), summed over the objective's terms one at a time so memory is bounded by
/// one batch. Each term's graph is built, used for both derivatives, and released before the next.
/// </summary>
public sealed class HessianOperator(IObjective objective) : ObjectiveOperator<IObjective>(objective)
{
    public override Tensor Apply(Tensor v)
    {
        OperatorInput.Check(this, v);
        if (!v.isfinite().all().item<bool>()) throw new NonFiniteValueException("The vector given to the Hessian operator contains NaN or Inf.");
        var parameters = Objective.Parameters;
        using (var scope = NewDisposeScope())
        {
            Tensor result = zeros(Dimension, dtype: Dtype, device: Device);
            var vParts = ParameterVector.Unflatten(v.detach(), parameters);
            for (int t = 0; t < Objective.TermCount; t++)
            {
                using var termScope = NewDisposeScope();
                var term = Objective.Term(t);
                var grads = AutogradGuard.Gradient(term, parameters, createGraph: true);
                Tensor gv = grads[0].mul(vParts[0]).sum();
                for (int i = 1; i < grads.Length; i++) gv = gv + grads[i].mul(vParts[i]).sum();
                // A term whose gradient is constant in theta (e.g. a linear model's bias term) has no second-order
                // graph; its Hessian contribution is exactly zero.
                if (!gv.requires_grad) continue;
                var hv = AutogradGuard.Gradient(gv, parameters);
                result.add_(ParameterVector.Flatten(hv));
            }
            ApplyCount++;
            return result.MoveToOuterDisposeScope();
        }
    }

    /// <summary>grad L as one vector (for SAM, adaptive sharpness and the benchmarks' gradient baseline).</summary>
    public Tensor Gradient()
    {
        var parameters = Objective.Parameters;
        using (var scope = NewDisposeScope())
        {
            Tensor result = zeros(Dimension, dtype: Dtype, device: Device);
            for (int t = 0; t < Objective.TermCount; t++)
            {
                using var termScope = NewDisposeScope();
                var g = AutogradGuard.Gradient(Objective.Term(t), parameters);
                result.add_(ParameterVector.Flatten(g));
            }
            return result.MoveToOuterDisposeScope();
        }
    }
}
