namespace Reproduce.Training.Incremental;

/// <summary>
/// Incremental few-shot learning (Shi et al., NeurIPS 2021, "F2M"): the protocol both sides of a comparison share, and
/// whether the base training is flat. Classes 0 .. BaseClasses - 1 are the base classes, trained on every sample of
/// theirs in the training subset; session s (1-based) adds the next <see cref="Ways"/> classes,
/// BaseClasses + (s - 1) Ways .. BaseClasses + s Ways - 1, with <see cref="Shots"/> training samples each. The class
/// order is the data set's label order, as the paper's split takes CIFAR-100's first 60 classes as its base.
/// <see cref="Flat"/> null = standard base training (cross-entropy) and sessions fine-tuned without a box; set = F2M.
/// </summary>
public sealed record IncrementalSettings
{
    public required int BaseClasses { get; init; }
    public required int Sessions { get; init; }
    /// <summary>New classes per session (the paper: 5-way).</summary>
    public required int Ways { get; init; }
    /// <summary>Training samples per new class (the paper: 5-shot).</summary>
    public required int Shots { get; init; }
    /// <summary>Epochs of each session; one epoch is one step on the whole session (Ways x Shots samples), the batch the
    /// code's prototype loss reshapes by shots. 0 = no fine-tuning: the session adds its prototypes from the base model.</summary>
    public required int SessionEpochs { get; init; }
    /// <summary>The sessions' SGD (the code's incremental config: lr 0.01, momentum 0.9, weight decay 5e-4).</summary>
    public required double SessionLearningRate { get; init; }
    public double SessionMomentum { get; init; }
    public double SessionWeightDecay { get; init; }
    /// <summary>F2M's flat base training and flat box; null = standard base training and unconstrained sessions.
    /// Left out of the serialised record when null.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public FlatBoxSettings? Flat { get; init; }

    /// <summary>Every class a run sees: the base classes and every session's.</summary>
    public int TotalClasses => BaseClasses + Sessions * Ways;

    public IReadOnlyList<int> BaseClassList => [.. Enumerable.Range(0, BaseClasses)];

    /// <summary>The classes session <paramref name="session"/> (1-based) adds.</summary>
    public IReadOnlyList<int> SessionClasses(int session) => session is >= 1 && session <= Sessions
        ? [.. Enumerable.Range(BaseClasses + (session - 1) * Ways, Ways)]
        : throw new ArgumentOutOfRangeException(nameof(session), session, $"Sessions are numbered 1 to {Sessions}.");

    /// <summary>What is wrong with these settings, or null.</summary>
    public string? Problem()
    {
        // 0 session epochs is the no-fine-tuning reference (FSCIL-Frozen): each session only adds its prototypes.
        if (BaseClasses < 2 || Sessions < 1 || Ways < 1 || Shots < 1 || SessionEpochs < 0)
            return "incremental few-shot: at least 2 base classes, 1 session, 1 way and 1 shot, and session epochs >= 0 (0 = prototypes only)";
        if (!(SessionLearningRate > 0 && double.IsFinite(SessionLearningRate)) || !(SessionMomentum >= 0) || !(SessionWeightDecay >= 0))
            return "incremental few-shot: the session learning rate must be positive and finite, momentum and weight decay >= 0";
        return Flat?.Problem();
    }
}

/// <summary>
/// F2M's box: base training minimises mean_j l_j + StdCoefficient std_j l_j over <see cref="NoiseSamples"/> draws
/// eps_j, each coordinate of each noised parameter uniform in [-Bound/2, Bound/2], l_j the loss at theta + eps_j; the
/// sessions then project every noised parameter onto [theta*_base - Bound/2, theta*_base + Bound/2] after each step.
/// The noised parameters are every hidden layer's weight of an MLP (not the biases, not the classifier), the analogue of
/// the code's last conv weights of the feature extractor (the classifier is not used by the nearest-class-mean test).
/// </summary>
public sealed record FlatBoxSettings
{
    /// <summary>b, the box's full width (the code's bound_value 0.01).</summary>
    public required double Bound { get; init; }
    /// <summary>M, noise draws per step (the code's random_times 2); at least 2, as the std needs two.</summary>
    public required int NoiseSamples { get; init; }
    /// <summary>The coefficient of the std (hard-coded 2.0 in the code).</summary>
    public double StdCoefficient { get; init; } = 2.0;

    public string? Problem() =>
        !(Bound > 0 && double.IsFinite(Bound)) ? "F2M: the box width b must be positive and finite"
        : NoiseSamples < 2 ? "F2M: at least 2 noise draws per step (the objective's std needs two)"
        : !(StdCoefficient >= 0 && double.IsFinite(StdCoefficient)) ? "F2M: the std coefficient must be finite and >= 0"
        : null;
}
