using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// Materialises an operator column by column, A e_j for every unit vector e_j: the independent oracle for
/// small problems (n HVPs, n^2 memory). The result is float64 whatever the operator's dtype, on the operator's device.
/// </summary>
public static class DenseMatrix
{
    public const long MaxDimension = 20_000;

    public static Tensor Of(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.Dimension > MaxDimension)
            throw new ArgumentException($"Refusing to materialise a {op.Dimension} x {op.Dimension} matrix (limit {MaxDimension}).", nameof(op));
        using var scope = NewDisposeScope();
        long n = op.Dimension;
        var dense = zeros(n, n, dtype: ScalarType.Float64, device: op.Device);
        for (long j = 0; j < n; j++)
        {
            using var colScope = NewDisposeScope();
            var e = zeros(n, dtype: op.Dtype, device: op.Device);
            e[j] = 1.0;
            dense[TensorIndex.Colon, TensorIndex.Single(j)] = op.Apply(e).to(ScalarType.Float64);
        }
        return dense.MoveToOuterDisposeScope();
    }
}
