using Reproduce.Measurement.Hessian;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

public sealed record SamSharpnessResult(double Value, double StandardError, double Rho, int Draws, long ParameterCount, long PerturbedEntries, LossAveraging Averaging);

/// <summary>
/// The paper's "SAM sharpness" (average case, not SAM's worst case): draw z ~ N(0, I) over every floating-point
/// entry of the network's state (parameters and buffers such as BatchNorm running statistics), perturb
/// w' = w + rho z / sqrt(P) with P the number of parameters, and report mean over draws of |L(w') - L(w)| / rho.
/// For a minimum of a quadratic with Hessian H this is about (rho / 2P) tr(H) for small rho, which the tests check.
/// The state is restored bit for bit after every draw (copies, not subtraction). Rho = 0 is defined as 0.
/// </summary>
public sealed class SamSharpness
{
    public double Rho { get; init; } = 0.005;
    public int Draws { get; init; } = 100;
    public long Seed { get; init; } = 0;
    public LossAveraging Averaging { get; init; } = LossAveraging.PerSample;

    public SamSharpnessResult Measure(nn.Module<Tensor, Tensor> network, LossKind loss, IBatchSource data)
    {
        var state = network.state_dict().Values.Where(t => t.is_floating_point()).ToList();
        long parameters = network.parameters().Sum(p => p.numel());
        network.eval();
        return Measure(state, parameters, () => DataLoss.Evaluate(network, loss, data, Averaging));
    }

    /// <summary>The same measure for any state tensors and loss function (the loss is evaluated at the perturbed state).</summary>
    public SamSharpnessResult Measure(IReadOnlyList<Tensor> state, long parameterCount, Func<double> loss)
    {
        if (Rho < 0 || !double.IsFinite(Rho)) throw new ArgumentOutOfRangeException(nameof(Rho), Rho, "rho must be finite and non-negative.");
        if (Draws < 1) throw new ArgumentOutOfRangeException(nameof(Draws), Draws, "At least one draw.");
        if (parameterCount < 1) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "P must be positive.");
        long entries = state.Sum(t => t.numel());
        if (Rho == 0) return new SamSharpnessResult(0, 0, 0, 0, parameterCount, entries, Averaging);
        double baseLoss = loss();
        var generator = new Generator((ulong)Seed);
        double scale = Rho / Math.Sqrt(parameterCount);
        var values = new double[Draws];
        using (var snapshot = new ParameterSnapshot(state))
            for (int d = 0; d < Draws; d++)
            {
                using (var scope = NewDisposeScope())
                using (no_grad())
                    foreach (var t in state) t.add_(randn(t.shape, dtype: t.dtype, generator: generator) * scale);
                double perturbed;
                try { perturbed = loss(); }
                finally { snapshot.Restore(); }
                values[d] = Math.Abs(perturbed - baseLoss) / Rho;
                if (!double.IsFinite(values[d])) throw new NonFiniteValueException($"SAM sharpness draw {d} is not finite.");
            }
        var (mean, se) = SampleStatistics.MeanAndStandardError(values);
        return new SamSharpnessResult(mean, se, Rho, Draws, parameterCount, entries, Averaging);
    }
}
