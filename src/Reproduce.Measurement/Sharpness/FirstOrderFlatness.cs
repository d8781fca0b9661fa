using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>The estimate rho * max_k ||grad L(w + d_k)|| over the ascent's iterates, the change of rho ||grad L(w + d_k)|| over
/// the last step (how far from settled the ascent was), the gradient norm at w, and the steps taken.</summary>
public sealed record FirstOrderFlatnessResult(double Value, double FinalStepChange, double GradientNormAtW, double Rho, int Steps, double BaseLoss);

/// <summary>
/// First-order flatness (Zhang, Xu, Yu, Zou, Cui, CVPR 2023, arXiv 2303.03108; its definition of R^(1)_rho):
/// <code>
///   R1_rho(w) = rho max_{||d||_2 &lt;= rho} ||grad L(w + d)||_2
/// </code>
/// by projected gradient ascent on ||grad L(w + d)|| from d_0 = 0, with the exact gradient in d,
/// grad_d ||grad L(w + d)|| = H(w + d) grad L(w + d) / ||grad L(w + d)|| (one gradient and one Hessian-vector product per
/// step): d_{k+1} = P(d_k + s u_k), u_k that gradient normalised, s = <see cref="StepFraction"/> rho, P the projection
/// onto the rho-ball. Where the gradient of the norm vanishes or is undefined (grad L = 0, as at w = 0 of a quadratic)
/// the step takes a seeded random unit direction instead. The estimate is rho times the largest gradient norm seen at any
/// iterate: every iterate lies in the ball, so it never exceeds R1 (it is a lower bound that the ascent raises).
/// At a minimum (grad L(w) = 0) of a quadratic, R1 = rho^2 lambda_max(H); GAM's paper bounds rho^2 lambda_max by R1 at
/// local minima in general. The parameters are restored bit for bit.
/// </summary>
public sealed class FirstOrderFlatness
{
    public double Rho { get; init; } = 0.05;
    public int Steps { get; init; } = 10;
    /// <summary>Step length as a fraction of rho.</summary>
    public double StepFraction { get; init; } = 1.0;
    public long Seed { get; init; } = 0;

    public FirstOrderFlatnessResult Measure(IObjective objective)
    {
        ArgumentNullException.ThrowIfNull(objective);
        if (!(Rho > 0 && double.IsFinite(Rho))) throw new ArgumentOutOfRangeException(nameof(Rho), Rho, "rho must be positive and finite.");
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "At least one ascent step.");
        if (!(StepFraction > 0 && double.IsFinite(StepFraction))) throw new ArgumentOutOfRangeException(nameof(StepFraction), StepFraction, "The step fraction must be positive and finite.");
        using var snapshot = new ParameterSnapshot(objective.Parameters);
        using var scope = NewDisposeScope();
        double baseLoss = PerturbationAscent.Loss(objective);
        var hessian = new HessianOperator(objective);
        var generator = new Generator((ulong)Seed);
        var d = zeros(objective.Dimension, dtype: objective.Dtype, device: objective.Device);
        double step = StepFraction * Rho, best = double.NegativeInfinity, previous = double.NaN, last = double.NaN, atW = double.NaN;
        for (int k = 0; k <= Steps; k++)
        {
            using var stepScope = NewDisposeScope();
            snapshot.SetOffset(d);
            var g = hessian.Gradient();
            double norm = g.to(ScalarType.Float64).norm().item<double>();
            if (!double.IsFinite(norm)) throw new NonFiniteValueException($"The gradient norm is {norm} at ascent step {k}.");
            if (k == 0) atW = norm;
            (previous, last) = (last, norm);
            best = Math.Max(best, norm);
            if (k == Steps) break;
            Tensor? direction = null;
            if (norm > 0)
            {
                var hg = hessian.Apply(g / norm);
                double hn = hg.to(ScalarType.Float64).norm().item<double>();
                if (hn > 0 && double.IsFinite(hn)) direction = hg / hn;
            }
            direction ??= RandomUnit(objective.Dimension, generator).OnDevice(objective.Device).to(objective.Dtype);
            var next = d + direction * step;
            double nn = next.to(ScalarType.Float64).norm().item<double>();
            if (nn > Rho) next = next * (Rho / nn);
            d.copy_(next);
        }
        return new FirstOrderFlatnessResult(Rho * best, Rho * Math.Abs(last - previous), atW, Rho, Steps, baseLoss);
    }

    /// <summary>A unit vector in a uniformly random direction (a normalised standard normal draw, float64, CPU).</summary>
    private static Tensor RandomUnit(long dimension, Generator generator)
    {
        var z = randn(new long[] { dimension }, dtype: ScalarType.Float64, generator: generator);
        return z / z.norm();
    }
}
