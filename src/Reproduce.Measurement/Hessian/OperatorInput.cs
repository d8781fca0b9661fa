using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>Validation shared by every operator: a wrong length would otherwise reach a native matmul and abort.</summary>
internal static class OperatorInput
{
    public static void Check(ILinearOperator op, Tensor v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.dim() != 1 || v.shape[0] != op.Dimension)
            throw new ArgumentException($"The operator acts on vectors of length {op.Dimension}; got shape [{string.Join(", ", v.shape)}].", nameof(v));
        if (v.dtype != op.Dtype)
            throw new ArgumentException($"The operator works in {op.Dtype}; got a {v.dtype} vector.", nameof(v));
        if (!DeviceTransfer.IsOn(v, op.Device))
            throw new ArgumentException($"The operator's vectors live on {op.Device} (its parameters' device); got a vector on {v.device}.", nameof(v));
    }
}
