using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// Stochastic Lanczos quadrature (Ghorbani et al. 2019; Ubaru et al. 2017): m Lanczos steps with full
/// reorthogonalisation from each normalised Rademacher probe; nodes = eig(T_m), weights = squared first
/// components of its eigenvectors. Stops a probe early at an invariant subspace, where the quadrature is exact.
/// </summary>
public sealed class StochasticLanczosQuadrature
{
    public int Probes { get; init; } = 1;
    public int Steps { get; init; } = 80;
    public long Seed { get; init; } = 0;

    public SpectralDensity Estimate(ILinearOperator op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (Probes < 1) throw new ArgumentOutOfRangeException(nameof(Probes), Probes, "SLQ needs at least one probe.");
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "SLQ needs at least one Lanczos step.");
        int steps = (int)Math.Min(Steps, op.Dimension);
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)Seed);
        var nodes = new List<double[]>();
        var weights = new List<double[]>();
        long applies = 0;
        for (int p = 0; p < Probes; p++)
        {
            using var probeScope = NewDisposeScope();
            using var lanczos = new LanczosProcess(op, RandomProbes.Rademacher(op.Dimension, generator), steps);
            while (lanczos.Steps < steps)
            {
                lanczos.Step();
                double scale = lanczos.Alpha.Select(Math.Abs).Concat(lanczos.Beta).Max();
                if (lanczos.LastBeta <= 1e-10 * Math.Max(scale, double.Epsilon)) break;
            }
            applies += lanczos.ApplyCount;
            var (theta, s) = linalg.eigh(lanczos.Tridiagonal());
            nodes.Add(HostRead.ToArray<double>(theta));
            weights.Add(HostRead.ToArray<double>(s[0].square()));
        }
        return new SpectralDensity(nodes, weights, applies, op.Dimension);
    }
}
