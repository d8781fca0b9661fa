using TorchSharp;
using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Flatness;

/// <summary>
/// Hutchinson probes z_j (Rademacher, drawn in order from a generator seeded with <see cref="Seed"/>) and their damped
/// solves u_j = (A + lambda I)^{-1} z_j by conjugate gradients: the expensive part of every damped trace estimate
/// here, computed once and shared. The soft rank reads d - lambda z_j.u_j per probe (<see cref="SoftRank"/>) and the
/// damped TIC u_j^T C z_j (<see cref="TakeuchiInformationCriterion"/>); with the same operator, damping, probe count,
/// seed and solver both need exactly these solves, so a run that measures both pays for them once (the solves, hence
/// both estimates, are bit-identical to separate computations: nothing else draws from the generator).
/// Owns its tensors (detached from any dispose scope): dispose it.
/// </summary>
public sealed class DampedProbeSolves : IDisposable
{
    private DampedProbeSolves(IReadOnlyList<Tensor> probes, IReadOnlyList<Tensor> solutions, long dimension, double damping, long seed, long applyCount, SolveDiagnostics diagnostics)
    {
        Probes = probes; Solutions = solutions; Dimension = dimension; Damping = damping; Seed = seed; ApplyCount = applyCount;
        MaxIterations = diagnostics.MaxIterations; MaxRelativeResidual = diagnostics.MaxRelativeResidual; Converged = diagnostics.Converged; NegativeCurvature = diagnostics.NegativeCurvature;
    }

    /// <summary>z_j, on the operator's device.</summary>
    public IReadOnlyList<Tensor> Probes { get; }
    /// <summary>u_j = (A + lambda I)^{-1} z_j as the solver left it (check <see cref="MaxRelativeResidual"/>).</summary>
    public IReadOnlyList<Tensor> Solutions { get; }
    public long Dimension { get; }
    public double Damping { get; }
    public long Seed { get; }
    /// <summary>Operator applications the solves spent.</summary>
    public long ApplyCount { get; }
    public int MaxIterations { get; }
    public double MaxRelativeResidual { get; }
    public bool Converged { get; }
    public bool NegativeCurvature { get; }
    /// <summary>The solver's iteration cap (part of what the estimates mean: a truncated solve under-estimates z.u).</summary>
    public int SolverMaxIterations { get; private init; }

    /// <summary>Draws <paramref name="probes"/> Rademacher probes and solves each (at least 2: the estimates need a standard error).</summary>
    public static DampedProbeSolves Solve(ILinearOperator op, double damping, int probes, long seed, ConjugateGradient solver)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(solver);
        if (probes < 2) throw new ArgumentOutOfRangeException(nameof(probes), probes, "A Hutchinson estimate needs at least 2 probes for a standard error.");
        if (!(damping > 0) || !double.IsFinite(damping)) throw new ArgumentOutOfRangeException(nameof(damping), damping, "The damping lambda must be positive and finite.");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        long before = op.ApplyCount;
        var diagnostics = new SolveDiagnostics();
        var zs = new List<Tensor>();
        var us = new List<Tensor>();
        for (int j = 0; j < probes; j++)
        {
            var z = RandomProbes.Rademacher(op.Dimension, generator).OnDevice(op.Device);
            var solve = solver.Solve(op, damping, z);
            zs.Add(z.DetachFromDisposeScope());
            us.Add(solve.Solution.DetachFromDisposeScope());
            diagnostics.Add(solve);
        }
        return new DampedProbeSolves(zs, us, op.Dimension, damping, seed, op.ApplyCount - before, diagnostics) { SolverMaxIterations = solver.MaxIterations };
    }

    public void Dispose()
    {
        foreach (var t in Probes.Concat(Solutions)) t.Dispose();
    }
}
