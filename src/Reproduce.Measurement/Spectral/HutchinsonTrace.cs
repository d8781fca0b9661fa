using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
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

    /// <summary>
    /// Hand the probes to the operator in blocks (<see cref="ILinearOperator.ApplyBlock"/>, the same bits). Off by
    /// default: on LeNet with 500 images, 20 probes in one block took 0.98-0.99 of the time of one at a time (`make
    /// bench BENCH_ARGS="--suite measures"`), no gain, so the suite does not use it.
    /// </summary>
    public bool ProbeBlocks { get; init; }

    /// <summary>Probes per block when <see cref="ProbeBlocks"/> is on: as many as fit in 2^24 vector entries (64 MiB in
    /// float32), all 20 of the default profile's LeNet, one at a time for a ResNet-18.</summary>
    public static int BlockSize(long dimension) => (int)Math.Clamp((1L << 24) / Math.Max(1, dimension), 1, int.MaxValue);

    public TraceEstimate Estimate(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (Probes < 2) throw new ArgumentOutOfRangeException(nameof(Probes), Probes, "Hutchinson needs at least 2 probes for a standard error.");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        var samples = new double[Probes];
        int block = ProbeBlocks ? BlockSize(op.Dimension) : 1;
        for (int start = 0; start < Probes; start += block)
        {
            using var blockScope = NewDisposeScope();
            // The probes are drawn in order (the operator draws nothing), so a block holds the probes one at a time would.
            var z = Enumerable.Range(0, Math.Min(block, Probes - start)).Select(_ => RandomProbes.Rademacher(op.Dimension, generator).OnDevice(op.Device)).ToList();
            var hz = op.ApplyBlock([.. z.Select(p => p.to(op.Dtype))]);
            for (int k = 0; k < z.Count; k++)
            {
                int j = start + k;
                samples[j] = z[k].dot(hz[k].to(ScalarType.Float64)).item<double>();
                if (!double.IsFinite(samples[j])) throw new NonFiniteValueException($"Hutchinson probe {j} gave a non-finite value.");
            }
        }
        var (mean, se) = SampleStatistics.MeanAndStandardError(samples);
        return new TraceEstimate(mean, se, Probes, Probes, "Hutchinson (Rademacher)");
    }
}
