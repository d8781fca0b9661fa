using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

public enum SharpnessCase { Worst, Average }

public sealed record AdaptiveSharpnessResult(double Value, double StandardError, SharpnessCase Case, PerturbationNorm Norm, double Rho, int StepsOrDraws, double BaseLoss);

/// <summary>
/// Adaptive sharpness (Andriushchenko et al. 2023; ASAM's Kwon et al. 2021): the perturbation is scaled
/// elementwise by |w|, so it is invariant to the rescalings that leave a ReLU network's function unchanged
/// (Dinh et al. 2017) and that make Hessian measures arbitrary.
///   worst case:   max_{||u||_p &lt;= rho} L(w + |w| ⊙ u) - L(w)   (projected gradient ascent, l2 or l-infinity)
///   average case: E_{z ~ N(0, I)} L(w + rho |w| ⊙ z) - L(w)     (mean over seeded draws, with standard error)
/// over the objective's parameters (BatchNorm buffers are state, not parameters, and are not perturbed).
/// </summary>
public sealed class AdaptiveSharpness
{
    public SharpnessCase Case { get; init; } = SharpnessCase.Worst;
    public PerturbationNorm Norm { get; init; } = PerturbationNorm.L2;
    public double Rho { get; init; } = 0.1;
    /// <summary>Ascent steps (worst case).</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Step length as a fraction of rho (worst case).</summary>
    public double StepFraction { get; init; } = 0.25;
    /// <summary>Draws (average case).</summary>
    public int Draws { get; init; } = 50;
    public long Seed { get; init; } = 0;

    public AdaptiveSharpnessResult Measure(IObjective objective)
    {
        if (Rho < 0 || !double.IsFinite(Rho)) throw new ArgumentOutOfRangeException(nameof(Rho), Rho, "rho must be finite and non-negative.");
        using var scope = NewDisposeScope();
        var scale = ParameterVector.Flatten(objective.Parameters).detach().abs();
        if (Case == SharpnessCase.Worst)
        {
            if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "At least one ascent step.");
            var outcome = PerturbationAscent.Run(objective, scale, Rho, Norm, Steps, StepFraction, Seed);
            return new AdaptiveSharpnessResult(outcome.MaxLoss - outcome.BaseLoss, 0, Case, Norm, Rho, Steps, outcome.BaseLoss);
        }
        if (Draws < 1) throw new ArgumentOutOfRangeException(nameof(Draws), Draws, "At least one draw.");
        double baseLoss = PerturbationAscent.Loss(objective);
        var generator = new Generator((ulong)Seed);
        var values = new double[Draws];
        using (var snapshot = new ParameterSnapshot(objective.Parameters))
            for (int d = 0; d < Draws; d++)
            {
                using var drawScope = NewDisposeScope();
                snapshot.SetOffset(randn(scale.shape, dtype: scale.dtype, generator: generator).OnDevice(objective.Device) * scale * Rho);
                values[d] = PerturbationAscent.Loss(objective) - baseLoss;
            }
        var (mean, se) = SampleStatistics.MeanAndStandardError(values);
        return new AdaptiveSharpnessResult(mean, se, Case, PerturbationNorm.L2, Rho, Draws, baseLoss);
    }
}
