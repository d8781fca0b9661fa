using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// Hutch++ (Meyer, Musco, Musco, Woodruff 2021): with a budget of m applications, s = m/3 go to sketching the
/// top range Q = orth(A S), s to the exact trace of Q^T A Q, and s to Hutchinson on the deflated remainder
/// (I - QQ^T) A (I - QQ^T). For spectra with a few large outliers (trained networks) its error falls like 1/m
/// instead of 1/sqrt(m). The standard error is that of the Hutchinson part.
/// </summary>
public sealed class HutchPlusPlus
{
    public int Budget { get; init; } = 99;
    public long Seed { get; init; } = 0;

    public TraceEstimate Estimate(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        int s = Budget / 3;
        if (s < 2) throw new ArgumentOutOfRangeException(nameof(Budget), Budget, "Hutch++ needs a budget of at least 6 applications.");
        if (s > op.Dimension) throw new ArgumentOutOfRangeException(nameof(Budget), Budget, $"Budget/3 = {s} exceeds the dimension {op.Dimension}; compute the trace exactly instead.");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        long n = op.Dimension;
        var sketch = RandomProbes.RademacherMatrix(n, s, generator).OnDevice(op.Device);
        var y = ApplyColumns(op, sketch);
        var (q, _) = linalg.qr(y);
        var aq = ApplyColumns(op, q);
        double top = (q * aq).sum().item<double>();
        var g = RandomProbes.RademacherMatrix(n, s, generator).OnDevice(op.Device);
        g = g - q.mm(q.t().mm(g));
        var ag = ApplyColumns(op, g);
        var rest = HostRead.ToArray<double>((g * ag).sum(dim: 0));
        var (mean, se) = SampleStatistics.MeanAndStandardError(rest);
        return new TraceEstimate(top + mean, se, 3L * s, s, "Hutch++");
    }

    private static Tensor ApplyColumns(ILinearOperator op, Tensor columns)
    {
        var outCols = new Tensor[columns.shape[1]];
        for (int j = 0; j < outCols.Length; j++)
            outCols[j] = op.Apply(columns[TensorIndex.Colon, TensorIndex.Single(j)].contiguous().to(op.Dtype)).to(ScalarType.Float64);
        return stack(outCols, 1);
    }
}
