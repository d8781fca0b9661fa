using Reproduce.Measurement.Hessian;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

public sealed record EpsilonSharpnessResult(double Value, double Epsilon, int Steps, double BaseLoss, double MaxLoss);

/// <summary>
/// Keskar et al. (2017)'s epsilon-sharpness: the largest relative loss increase over the box
/// C_eps = { delta : |delta_i| &lt;= eps (|w_i| + 1) }, in percent:
///   100 (max_{delta in C_eps} L(w + delta) - L(w)) / (1 + L(w)).
/// Keskar et al. solved the inner problem with L-BFGS-B; here projected sign-gradient ascent in the box, which
/// gives a lower bound on the maximum (as theirs does), with the step count recorded.
/// </summary>
public sealed class EpsilonSharpness
{
    public double Epsilon { get; init; } = 1e-3;
    public int Steps { get; init; } = 20;
    public double StepFraction { get; init; } = 0.25;
    public long Seed { get; init; } = 0;

    public EpsilonSharpnessResult Measure(IObjective objective)
    {
        if (Epsilon < 0 || !double.IsFinite(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "epsilon must be finite and non-negative.");
        using var scope = NewDisposeScope();
        var scale = ParameterVector.Flatten(objective.Parameters).detach().abs() + 1;
        var outcome = PerturbationAscent.Run(objective, scale, Epsilon, PerturbationNorm.LInfinity, Steps, StepFraction, Seed);
        return new EpsilonSharpnessResult(100 * (outcome.MaxLoss - outcome.BaseLoss) / (1 + outcome.BaseLoss), Epsilon, Steps, outcome.BaseLoss, outcome.MaxLoss);
    }
}
