using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// Hutchinson's estimator tr(A) ~ (1/m) sum_j z_j^T A z_j with Rademacher z_j. Unbiased; one probe has variance
/// 2(||A||_F^2 - sum_i A_ii^2), so it is exact for diagonal A (tests therefore use rotated matrices). The
/// standard error is the sample standard deviation of the m probe values over sqrt(m).
/// </summary>
public sealed class HutchinsonTrace
{
    public int Probes { get; init; } = 100;
    public long Seed { get; init; } = 0;

    public TraceEstimate Estimate(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (Probes < 2) throw new ArgumentOutOfRangeException(nameof(Probes), Probes, "Hutchinson needs at least 2 probes for a standard error.");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        var samples = new double[Probes];
        for (int j = 0; j < Probes; j++)
        {
            using var probeScope = NewDisposeScope();
            var z = RandomProbes.Rademacher(op.Dimension, generator).OnDevice(op.Device);
            samples[j] = z.dot(op.Apply(z.to(op.Dtype)).to(ScalarType.Float64)).item<double>();
            if (!double.IsFinite(samples[j])) throw new NonFiniteValueException($"Hutchinson probe {j} gave a non-finite value.");
        }
        var (mean, se) = SampleStatistics.MeanAndStandardError(samples);
        return new TraceEstimate(mean, se, Probes, Probes, "Hutchinson (Rademacher)");
    }
}
