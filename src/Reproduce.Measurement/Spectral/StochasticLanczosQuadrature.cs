using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
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

    /// <summary>Run the probes' recurrences in lockstep with one block product per step (the same bits). Off by default:
    /// probe blocks showed no gain on LeNet (see <see cref="HutchinsonTrace.ProbeBlocks"/>).</summary>
    public bool Lockstep { get; init; }

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
        // With Lockstep, probes run in lockstep, a group at a time: each step hands the group's pending directions to the operator as
        // one block (the Hessian shares its forward and first backward pass among them). Each probe's recurrence is
        // unchanged (its products are bit-identical to one Apply each), and the probes are drawn in order as before
        // (nothing else draws from the generator), so the nodes and weights are the same bits. A group holds as many
        // bases (Dimension x Steps float64 each) as fit in 2^27 entries (1 GiB): all of a LeNet's, one ResNet-18's.
        int group = Lockstep ? (int)Math.Clamp((1L << 27) / Math.Max(1, op.Dimension * (long)steps), 1, Probes) : 1;
        for (int first = 0; first < Probes; first += group)
        {
            using var groupScope = NewDisposeScope();
            var processes = Enumerable.Range(0, Math.Min(group, Probes - first))
                .Select(_ => new LanczosProcess(op, RandomProbes.Rademacher(op.Dimension, generator), steps)).ToList();
            try
            {
                var running = processes.ToList();
                while (running.Count > 0)
                {
                    using var stepScope = NewDisposeScope();
                    var products = op.ApplyBlock([.. running.Select(l => l.Pending())]);
                    for (int k = 0; k < running.Count; k++) running[k].Step(products[k]);
                    running = running.Where(l =>
                    {
                        double scale = l.Alpha.Select(Math.Abs).Concat(l.Beta).Max();
                        return l.Steps < steps && !(l.LastBeta <= 1e-10 * Math.Max(scale, double.Epsilon));
                    }).ToList();
                }
                foreach (var lanczos in processes)
                {
                    applies += lanczos.ApplyCount;
                    var (theta, s) = linalg.eigh(lanczos.Tridiagonal());
                    nodes.Add(HostRead.ToArray<double>(theta));
                    weights.Add(HostRead.ToArray<double>(s[0].square()));
                }
            }
            finally { foreach (var l in processes) l.Dispose(); }
        }
        return new SpectralDensity(nodes, weights, applies, op.Dimension);
    }
}
