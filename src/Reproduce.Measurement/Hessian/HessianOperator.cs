using Reproduce.Runtime.Native;
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
        // A LeNet's double backward read stale bytes on one CPU (AllocationZeroing): new tensors are zeros here.
        using var zeroing = AllocationZeroing.During();
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

    /// <summary>
    /// H v_1, ..., H v_k with one forward pass and one first backward pass per term for the whole block: per term, the
    /// gradient g_t (with its graph) is built once, and each H v_i is the derivative of g_t . v_i through that same
    /// graph. Each H v_i is computed by the very operations <see cref="Apply"/> performs for it (the shared forward and
    /// first backward are deterministic, and the per-term sum runs in the same order), so the results are bit-identical
    /// to k calls of Apply (tested); only the k - 1 repeated forward and first backward passes are saved.
    /// </summary>
    public IReadOnlyList<Tensor> ApplyBlock(IReadOnlyList<Tensor> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 1) return [Apply(vectors[0])];
        foreach (var v in vectors)
        {
            OperatorInput.Check(this, v);
            if (!v.isfinite().all().item<bool>()) throw new NonFiniteValueException("The vector given to the Hessian operator contains NaN or Inf.");
        }
        var parameters = Objective.Parameters;
        using var zeroing = AllocationZeroing.During();
        using (var scope = NewDisposeScope())
        {
            var results = vectors.Select(_ => zeros(Dimension, dtype: Dtype, device: Device)).ToList();
            var vParts = vectors.Select(v => ParameterVector.Unflatten(v.detach(), parameters)).ToList();
            for (int t = 0; t < Objective.TermCount; t++)
            {
                using var termScope = NewDisposeScope();
                var term = Objective.Term(t);
                var grads = AutogradGuard.Gradient(term, parameters, createGraph: true);
                for (int k = 0; k < vectors.Count; k++)
                {
                    using var vectorScope = NewDisposeScope();
                    Tensor gv = grads[0].mul(vParts[k][0]).sum();
                    for (int i = 1; i < grads.Length; i++) gv = gv + grads[i].mul(vParts[k][i]).sum();
                    if (!gv.requires_grad) continue;
                    var hv = AutogradGuard.Gradient(gv, parameters);
                    results[k].add_(ParameterVector.Flatten(hv));
                }
            }
            ApplyCount += vectors.Count;
            foreach (var r in results) r.MoveToOuterDisposeScope();
            return results;
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
