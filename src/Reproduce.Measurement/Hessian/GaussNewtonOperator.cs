using Reproduce.Runtime.Native;
using TorchSharp;
using Reproduce.Measurement.Autograd;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// The generalised Gauss–Newton matrix G = (1/N) sum_i J_i^T H_i J_i, where J_i = d f(x_i) / d theta and H_i is
/// the Hessian of the per-sample loss with respect to the outputs: diag(p) - p p^T for cross-entropy
/// (p = softmax(f)), (2/K) I for MSE averaged over K outputs. G is positive semi-definite and equals the Hessian
/// minus the terms that carry the second derivative of the network itself.
/// J v is computed by the double-vjp trick: with g(u) = J^T u (linear in u), J v = d (g(u) . v) / d u.
/// </summary>
public sealed class GaussNewtonOperator(ModelObjective objective) : ObjectiveOperator<ModelObjective>(objective)
{
    public override Tensor Apply(Tensor v)
    {
        OperatorInput.Check(this, v);
        var parameters = Objective.Parameters;
        // As in HessianOperator: no curvature product may read stale bytes (AllocationZeroing).
        using var zeroing = AllocationZeroing.During();
        using var scope = NewDisposeScope();
        var result = zeros(Dimension, dtype: Dtype, device: Device);
        var vFlat = v.detach();
        for (int b = 0; b < Objective.TermCount; b++)
        {
            using var batchScope = NewDisposeScope();
            var f = Objective.Outputs(b);
            var u = zeros_like(f).requires_grad_(true);
            var jtu = AutogradGuard.Gradient((f * u).sum(), parameters, createGraph: true);
            var jv = AutogradGuard.Gradient(ParameterVector.Flatten(jtu).dot(vFlat), new[] { u })[0];
            var m = OutputHessianTimes(f.detach(), jv.detach());
            var g = AutogradGuard.Gradient((f * m).sum(), parameters);
            result.add_(ParameterVector.Flatten(g));
        }
        result.div_(Objective.Data.SampleCount);
        ApplyCount++;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>H_i w_i for each sample row, with H_i the loss Hessian in output space.</summary>
    private Tensor OutputHessianTimes(Tensor f, Tensor w) => Objective.Loss switch
    {
        LossKind.CrossEntropy => CrossEntropyOutputHessianTimes(f, w),
        LossKind.MeanSquaredError => w * (2.0 / (f.numel() / f.shape[0])),
        _ => throw new ArgumentOutOfRangeException(),
    };

    // (diag p - p p^T) w = p * w - p (p . w), row by row.
    private static Tensor CrossEntropyOutputHessianTimes(Tensor f, Tensor w)
    {
        var p = nn.functional.softmax(f, 1);
        return p * w - p * (p * w).sum(1, keepdim: true);
    }
}
