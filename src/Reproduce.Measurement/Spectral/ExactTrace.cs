using Reproduce.Measurement.Hessian;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>tr(A) = sum_i e_i^T A e_i with n applications: exact, for small problems and as an oracle.</summary>
public static class ExactTrace
{
    public static TraceEstimate Compute(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        using var scope = NewDisposeScope();
        double total = 0;
        for (long i = 0; i < op.Dimension; i++)
        {
            using var s = NewDisposeScope();
            var e = zeros(op.Dimension, dtype: op.Dtype, device: op.Device);
            e[i] = 1.0;
            total += op.Apply(e)[i].to(ScalarType.Float64).item<double>();
        }
        return new TraceEstimate(total, 0, op.Dimension, 0, "Exact (unit vectors)");
    }
}
