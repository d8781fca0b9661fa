using Reproduce.Measurement.Autograd;
using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>
/// Projected gradient ascent for max L(w + s ⊙ u) over ||u||_p &lt;= rho, with an elementwise scale s (|w| for
/// adaptive sharpness, |w| + 1 for Keskar's box). Gradient in u: s ⊙ grad L(w + s ⊙ u). l2 steps along the
/// normalised gradient then project onto the ball; l-infinity steps along its sign then clip (FGSM/PGD in weight
/// space). Starts from a seeded uniform point of the ball's inscribed box at half radius, so an exact critical
/// point does not trap it. Returns the largest loss seen; the parameters are restored bit for bit.
/// </summary>
internal static class PerturbationAscent
{
    public sealed record Outcome(double BaseLoss, double MaxLoss, int Steps);

    public static Outcome Run(IObjective objective, Tensor scale, double rho, PerturbationNorm norm, int steps, double stepFraction, long seed)
    {
        using var snapshot = new ParameterSnapshot(objective.Parameters);
        double baseLoss = Loss(objective);
        if (rho == 0) return new Outcome(baseLoss, baseLoss, 0);
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var u = (rand(scale.shape, dtype: scale.dtype, generator: generator).OnDevice(objective.Device) * 2 - 1) * (0.5 * rho / (norm == PerturbationNorm.L2 ? Math.Sqrt(scale.numel()) : 1));
        double eta = stepFraction * rho;
        double best = double.NegativeInfinity;
        for (int t = 0; t <= steps; t++)
        {
            using var stepScope = NewDisposeScope();
            snapshot.SetOffset(scale * u);
            var (value, gradient) = LossAndGradient(objective);
            best = Math.Max(best, value);
            if (t == steps) break;
            var gu = scale * gradient;
            Tensor next;
            if (norm == PerturbationNorm.L2)
            {
                double gn = gu.norm().to(ScalarType.Float64).item<double>();
                next = gn > 0 ? u + gu * (eta / gn) : u;
                double un = next.norm().to(ScalarType.Float64).item<double>();
                if (un > rho) next = next * (rho / un);
            }
            else next = (u + gu.sign() * eta).clamp(-rho, rho);
            u.copy_(next);
        }
        return new Outcome(baseLoss, best, steps);
    }

    /// <summary>The objective's value; a non-finite one is an error, not a sharpness.</summary>
    internal static double Loss(IObjective objective)
    {
        double total = ObjectiveValue.Of(objective);
        if (!double.IsFinite(total)) throw new NonFiniteValueException($"The objective is {total}.");
        return total;
    }

    private static (double, Tensor) LossAndGradient(IObjective objective)
    {
        double total = 0;
        Tensor? gradient = null;
        for (int t = 0; t < objective.TermCount; t++)
        {
            using var scope = NewDisposeScope();
            var term = objective.Term(t);
            total += term.detach().to(ScalarType.Float64).item<double>();
            var g = ParameterVector.Flatten(AutogradGuard.Gradient(term, objective.Parameters));
            gradient = gradient is null ? g.MoveToOuterDisposeScope() : gradient.add_(g);
        }
        if (!double.IsFinite(total)) throw new NonFiniteValueException($"The objective is {total} at a perturbed point.");
        return (total, gradient!);
    }
}
