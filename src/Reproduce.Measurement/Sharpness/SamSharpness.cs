using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>The losses of a SAM sharpness measure: L(w), L(w + d_j) per draw, and L(w - d_j) per draw when measured (else null).</summary>
public sealed record SamDrawLosses(double Base, double[] Plus, double[]? Minus, long ParameterCount, long PerturbedEntries);

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

    public SamSharpnessResult Measure(nn.Module<Tensor, Tensor> network, LossKind loss, IBatchSource data) => Summarise(Losses(network, loss, data));

    /// <summary>The same measure for any state tensors and loss function (the loss is evaluated at the perturbed state).</summary>
    public SamSharpnessResult Measure(IReadOnlyList<Tensor> state, long parameterCount, Func<double> loss) => Summarise(Losses(state, parameterCount, loss));

    /// <summary>
    /// The losses this measure is made of, on a network: see <see cref="Losses(IReadOnlyList{Tensor}, long, Func{double}, SamDrawLosses?)"/>.
    /// </summary>
    public SamDrawLosses Losses(nn.Module<Tensor, Tensor> network, LossKind loss, IBatchSource data, SamDrawLosses? known = null)
    {
        var state = network.state_dict().Values.Where(t => t.is_floating_point()).ToList();
        long parameters = network.parameters().Sum(p => p.numel());
        network.eval();
        return Losses(state, parameters, () => DataLoss.Evaluate(network, loss, data, Averaging), known);
    }

    /// <summary>
    /// L(w) and, per draw d_j, L(w + d_j) (and L(w - d_j) when <see cref="Symmetric"/>). The draws depend only on
    /// (Seed, Rho, Draws, the state's shapes), so the paper's measure and the symmetric one share their L(w + d_j):
    /// given <paramref name="known"/> losses of the same draws (same seed, radius, count, averaging, state and loss:
    /// the caller's promise), only what is missing is evaluated (L(w - d_j) replays the same draws from the seed).
    /// Every value is the one a fresh evaluation would give, bit for bit: each perturbed state is w + d_j (or w - d_j)
    /// applied to the restored state, and the loss is deterministic. Rho = 0 evaluates nothing.
    /// </summary>
    public SamDrawLosses Losses(IReadOnlyList<Tensor> state, long parameterCount, Func<double> loss, SamDrawLosses? known = null)
    {
        if (Rho < 0 || !double.IsFinite(Rho)) throw new ArgumentOutOfRangeException(nameof(Rho), Rho, "rho must be finite and non-negative.");
        if (Draws < 1) throw new ArgumentOutOfRangeException(nameof(Draws), Draws, "At least one draw.");
        if (parameterCount < 1) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "P must be positive.");
        long entries = state.Sum(t => t.numel());
        if (Rho == 0) return new SamDrawLosses(0, [], [], parameterCount, entries);
        if (known is not null && (known.Plus.Length != Draws || known.ParameterCount != parameterCount || known.PerturbedEntries != entries))
            throw new ArgumentException($"The known losses are of {known.Plus.Length} draws over {known.PerturbedEntries} entries (P = {known.ParameterCount}), not {Draws} over {entries} (P = {parameterCount}).", nameof(known));
        bool plus = known is null, minus = Symmetric && known?.Minus is null;
        if (!plus && !minus) return known!;
        double baseLoss = known?.Base ?? loss();
        var generator = new Generator((ulong)Seed);
        double scale = Rho / Math.Sqrt(parameterCount);
        var perturbed = known?.Plus ?? new double[Draws];
        var mirrored = minus ? new double[Draws] : known?.Minus;
        using (var snapshot = new ParameterSnapshot(state))
            for (int d = 0; d < Draws; d++)
                using (var scope = NewDisposeScope())
                {
                    var draw = state.Select(t => randn(t.shape, dtype: t.dtype, generator: generator).OnDevice(t.device) * scale).ToList();
                    if (plus)
                    {
                        using (no_grad())
                            for (int i = 0; i < state.Count; i++) state[i].add_(draw[i]);
                        try { perturbed[d] = loss(); }
                        finally { snapshot.Restore(); }
                    }
                    if (minus)
                    {
                        using (no_grad())
                            for (int i = 0; i < state.Count; i++) state[i].sub_(draw[i]);
                        try { mirrored![d] = loss(); }
                        finally { snapshot.Restore(); }
                    }
                }
        return new SamDrawLosses(baseLoss, perturbed, mirrored, parameterCount, entries);
    }

    /// <summary>The measure from its losses: mean over draws of |L(w + d) - L(w)| / rho, or of
    /// (L(w + d) + L(w - d) - 2 L(w)) / (2 rho) when <see cref="Symmetric"/>; with its standard error.</summary>
    public SamSharpnessResult Summarise(SamDrawLosses losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        if (Rho == 0) return new SamSharpnessResult(0, 0, 0, 0, losses.ParameterCount, losses.PerturbedEntries, Averaging);
        if (losses.Plus.Length != Draws) throw new ArgumentException($"The losses hold {losses.Plus.Length} draws, not {Draws}.", nameof(losses));
        if (Symmetric && losses.Minus is null) throw new ArgumentException("The symmetric measure needs the mirrored losses L(w - d).", nameof(losses));
        var values = new double[Draws];
        for (int d = 0; d < Draws; d++)
        {
            values[d] = Symmetric ? (losses.Plus[d] + losses.Minus![d] - 2 * losses.Base) / (2 * Rho) : Math.Abs(losses.Plus[d] - losses.Base) / Rho;
            if (!double.IsFinite(values[d])) throw new NonFiniteValueException($"SAM sharpness draw {d} is not finite.");
        }
        var (mean, se) = SampleStatistics.MeanAndStandardError(values);
        return new SamSharpnessResult(mean, se, Rho, Draws, losses.ParameterCount, losses.PerturbedEntries, Averaging);
    }
}
