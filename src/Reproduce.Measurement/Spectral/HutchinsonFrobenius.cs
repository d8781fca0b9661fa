using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// The squared Frobenius norm of a symmetric operator, ||A||_F^2 = tr(A^2) = sum_i lambda_i^2, by Hutchinson's estimator
/// on A^2: (1/m) sum_j ||A z_j||^2 with Rademacher z_j (E[z z^T] = I, so E||A z||^2 = tr(A^T A)); one application of A per
/// probe. Unbiased; the standard error is the sample standard deviation of the m probe values over sqrt(m).
/// For a Hessian this is Frob-SAM's sharpness (Tahmasebi et al. 2024); their code estimates it the same way with
/// Gaussian probes (custom_hessian.py, frobenius), whose variance is larger.
/// </summary>
public sealed class HutchinsonFrobenius
{
    public int Probes { get; init; } = 100;
    public long Seed { get; init; } = 0;

    public TraceEstimate Estimate(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (Probes < 2) throw new ArgumentOutOfRangeException(nameof(Probes), Probes, "The Frobenius estimate needs at least 2 probes for a standard error.");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        var samples = new double[Probes];
        for (int j = 0; j < Probes; j++)
        {
            using var probeScope = NewDisposeScope();
            var z = RandomProbes.Rademacher(op.Dimension, generator).OnDevice(op.Device);
            samples[j] = op.Apply(z.to(op.Dtype)).to(ScalarType.Float64).square().sum().item<double>();
            if (!double.IsFinite(samples[j])) throw new NonFiniteValueException($"Frobenius probe {j} gave a non-finite value.");
        }
        var (mean, se) = SampleStatistics.MeanAndStandardError(samples);
        return new TraceEstimate(mean, se, Probes, Probes, "Hutchinson on A^2 (Rademacher)");
    }
}
