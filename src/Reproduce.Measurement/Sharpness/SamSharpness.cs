using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Measurement.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

public sealed record SamSharpnessResult(double Value, double StandardError, double Rho, int Draws, long ParameterCount, long PerturbedEntries, LossAveraging Averaging);

/// <summary>
/// The paper's "SAM sharpness" (average case, not SAM's worst case): draw z ~ N(0, I) over every floating-point
/// entry of the network's state (parameters and buffers such as BatchNorm running statistics), perturb
/// w' = w + rho z / sqrt(P) with P the number of parameters, and report mean over draws of |L(w') - L(w)| / rho.
/// For a minimum of a quadratic with Hessian H this is about (rho / 2P) tr(H) for small rho, which the tests check.
/// The state is restored bit for bit after every draw (copies, not subtraction). Rho = 0 is defined as 0.
/// The draws come from a CPU generator and are moved to each state tensor's device, so a seed perturbs by the same
/// z on every device.
///
/// <para><see cref="Symmetric"/>: per draw d, (L(w + d) + L(w - d) - 2 L(w)) / (2 rho) instead. Taylor:
/// L(w +- d) = L + (+-) g.d + d^T H d / 2 + O(|d|^3), so the first-order term g.d cancels and the odd third-order term
/// too, leaving d^T H d / (2 rho) + O(|d|^4): the curvature part alone, on the same scale as the paper's measure at a
/// minimum (E = (rho / 2P) tr H). Away from a minimum the paper's |L(w + d) - L(w)| is dominated by |g.d| ~ rho |g| / sqrt P.
/// No absolute value: negative curvature stays negative.</para>
/// </summary>
public sealed class SamSharpness
{
    public double Rho { get; init; } = 0.005;
    public int Draws { get; init; } = 100;
    public long Seed { get; init; } = 0;
    public LossAveraging Averaging { get; init; } = LossAveraging.PerSample;
    /// <summary>Symmetric second difference per draw (curvature only); see the class comment.</summary>
    public bool Symmetric { get; init; }

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
                double perturbed, mirrored = double.NaN;
                using (var scope = NewDisposeScope())
                {
                    var draw = state.Select(t => randn(t.shape, dtype: t.dtype, generator: generator).OnDevice(t.device) * scale).ToList();
                    using (no_grad())
                        for (int i = 0; i < state.Count; i++) state[i].add_(draw[i]);
                    try { perturbed = loss(); }
                    finally { snapshot.Restore(); }
                    if (Symmetric)
                    {
                        using (no_grad())
                            for (int i = 0; i < state.Count; i++) state[i].sub_(draw[i]);
                        try { mirrored = loss(); }
                        finally { snapshot.Restore(); }
                    }
                }
                values[d] = Symmetric ? (perturbed + mirrored - 2 * baseLoss) / (2 * Rho) : Math.Abs(perturbed - baseLoss) / Rho;
                if (!double.IsFinite(values[d])) throw new NonFiniteValueException($"SAM sharpness draw {d} is not finite.");
            }
        var (mean, se) = SampleStatistics.MeanAndStandardError(values);
        return new SamSharpnessResult(mean, se, Rho, Draws, parameterCount, entries, Averaging);
    }
}
