using Reproduce.Training.Federated;
using Reproduce.Training.Regimes;

namespace Reproduce.Training;

/// <summary>
/// A training recipe. SGD has PyTorch semantics: momentum buffer b = mu b + g, coupled weight decay
/// g = grad + wd * w (the paper's "WD"). A batch size of 0 means full batch. Everything random (shuffle order,
/// augmentation) is drawn from one generator seeded by <see cref="Seed"/>; model initialisation is seeded by the
/// caller when the model is built.
/// </summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.0;
    public double WeightDecay { get; init; } = 0.0;
    public long Seed { get; init; } = 0;
    public bool MeanSquaredError { get; init; } = false;
    /// <summary>Optimiser name in <see cref="Optimisers.OptimiserRegistry"/>.</summary>
    public string Optimiser { get; init; } = "sgd";
    /// <summary>The optimiser's own hyper-parameters by name (those its registration declares); null or a missing
    /// name = the registration's default.</summary>
    public IReadOnlyDictionary<string, double>? OptimiserParameters { get; init; }
    /// <summary>"constant" or "cosine" (<see cref="Optimisers.LearningRateSchedule"/>).</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>Crop-and-flip augmentation of training batches (image inputs only).</summary>
    public bool Augment { get; init; }
    /// <summary>SAM's neighbourhood radius; 0 trains without SAM.</summary>
    public double SamRho { get; init; } = 0.0;
    /// <summary>m-sharpness micro-batch size for SAM; 0 = one perturbation per batch.</summary>
    public int SamMicroBatch { get; init; }
    /// <summary>First epoch (1-based) whose end-of-epoch weights enter the SWA average; 0 = no SWA.</summary>
    public int SwaStartEpoch { get; init; }
    /// <summary>Train until the clean training loss (evaluation mode, whole training set, no augmentation, the
    /// unregularised objective) at an epoch's end is at most this value, with <see cref="Epochs"/> as the cap; null =
    /// train for exactly <see cref="Epochs"/>. It compares regimes at matched fit instead of matched budget: the
    /// curvature of cross-entropy scales with diag(p) - p p^T, which shrinks as the model grows confident, so a
    /// regime that leaves the training loss higher reads as sharper for that reason alone. A schedule still spans
    /// the cap (the stopping epoch is not known in advance).</summary>
    public double? TrainLossTarget { get; init; }

    /// <summary>Label-noise SGD: fresh noise on each batch's labels at every step (<see cref="PerStepLabelNoise"/>); null = none.</summary>
    public PerStepLabelNoise? LabelNoise { get; init; }

    /// <summary>FAM: the relative-flatness term added to every batch loss (<see cref="RelativeFlatnessRegulariser"/>); null = none.
    /// Needs a cross-entropy classifier with penultimate features (a FeatureNetwork) and plain gradient steps.</summary>
    public RelativeFlatnessRegulariser? RelativeFlatness { get; init; }
    /// <summary>SWAD: dense averaging over a loss-valley window (<see cref="Optimisers.SwadSettings"/>); the trainer then
    /// needs a held-out split. Null = off.</summary>
    public Optimisers.SwadSettings? Swad { get; init; }
    /// <summary>Incremental few-shot base training (<see cref="Incremental.IncrementalFewShot.TrainBase"/>); null = off.</summary>
    public Incremental.IncrementalSettings? Incremental { get; init; }
    /// <summary>FedAvg (<see cref="FederatedSettings"/>): the trainer hands the run to <see cref="FederatedTrainer"/>,
    /// whose clients train with this recipe less this field. Null = centralised training.</summary>
    public FederatedSettings? Federated { get; init; }

    /// <summary>This recipe changed as the regime says.</summary>
    public TrainerOptions With(Regime regime) => this with
    {
        WeightDecay = WeightDecay + regime.WeightDecay,
        Augment = Augment || regime.Augment,
        SamRho = regime.SamRho > 0 ? regime.SamRho : SamRho,
        SamMicroBatch = regime.SamMicroBatch > 0 ? regime.SamMicroBatch : SamMicroBatch,
        BatchSize = BatchSize * regime.BatchMultiplier,
        Epochs = Epochs * (regime.EpochMultiplier ?? 1),
        SwaStartEpoch = regime.SwaStartFraction > 0 ? Math.Max(1, (int)Math.Floor(regime.SwaStartFraction * Epochs) + 1) : SwaStartEpoch,
        Optimiser = regime.Optimiser ?? Optimiser,
        OptimiserParameters = WithRegimeParameters(regime),
        LearningRate = regime.LearningRateScale is { } scale ? LearningRate * scale : LearningRate,
        LabelNoise = regime.LabelNoise ?? LabelNoise,
        RelativeFlatness = regime.RelativeFlatness ?? RelativeFlatness,
        Swad = regime.Swad ?? Swad,
        // SWAD stops on its own held-out rule and returns an average, whose loss a target on the iterate does not bound:
        // in a setting with a train-loss target (a matched-fit control) the target stops the other regimes, and SWAD's
        // run is exactly the one it would be without it; the claim's premise then checks that the fits match.
        TrainLossTarget = regime.Swad is not null ? null : TrainLossTarget,
        Incremental = regime.Incremental ?? Incremental,
        Federated = regime.Federated ?? Federated,
    };

    /// <summary>A regime that names its own optimiser brings that optimiser's parameters (the recipe's belong to another
    /// one); a regime that keeps the recipe's optimiser overrides the recipe's parameters it names.</summary>
    private IReadOnlyDictionary<string, double>? WithRegimeParameters(Regime regime)
    {
        if (regime.Optimiser is not null) return regime.OptimiserParameters;
        if (regime.OptimiserParameters is null or { Count: 0 }) return OptimiserParameters;
        var merged = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in OptimiserParameters ?? new Dictionary<string, double>()) merged[name] = value;
        foreach (var (name, value) in regime.OptimiserParameters) merged[name] = value;
        return merged;
    }

    public void Validate()
    {
        if (Epochs < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be non-negative.");
        if (BatchSize < 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Batch size must be non-negative (0 = full batch).");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be positive.");
        if (Momentum < 0 || WeightDecay < 0 || SamRho < 0 || SamMicroBatch < 0 || SwaStartEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(TrainerOptions), "Momentum, weight decay, rho, micro-batch and SWA start must be non-negative.");
        if (!Optimisers.OptimiserRegistry.Contains(Optimiser))
            throw new ArgumentException($"Unknown optimiser '{Optimiser}'. Valid: {string.Join(", ", Optimisers.OptimiserRegistry.Names)}.");
        if (OptimiserParameters is not null && Optimisers.OptimiserRegistry.UnknownParameters(Optimiser, OptimiserParameters.Keys) is { } problem)
            throw new ArgumentException($"Optimiser parameters: {problem}.");
        if (TrainLossTarget is { } target && !(target > 0 && double.IsFinite(target)))
            throw new ArgumentOutOfRangeException(nameof(TrainLossTarget), target, "A train-loss target must be a positive finite number.");
        if (TrainLossTarget is not null && SwaStartEpoch > 0)
            throw new ArgumentException("A train-loss target stops on the current iterate's loss; SWA returns an average of iterates, whose loss the target does not bound, so the two do not combine.");
        if (RelativeFlatness is not null && MeanSquaredError)
            throw new ArgumentException("FAM's relative-flatness term is the closed form of the softmax cross-entropy Hessian; it does not apply to a mean-squared-error loss.");
        if (RelativeFlatness is not null && SamRho > 0)
            throw new ArgumentException("FAM's relative-flatness term is not combined with SAM: SAM's closures recompute the plain loss at perturbed weights, without the term.");
        if (!Optimisers.LearningRateSchedule.Names.Contains(Schedule))
            throw new ArgumentException($"Unknown learning-rate schedule '{Schedule}'. Valid: {string.Join(", ", Optimisers.LearningRateSchedule.Names)}.");
        if (Swad is { } swad)
        {
            if (swad.Problem() is { } swadProblem) throw new ArgumentException($"{swadProblem}.");
            if (Schedule != "constant")
                throw new ArgumentException($"SWAD averages the iterates of a constant learning rate (Cha et al. leave the schedule constant); this recipe's schedule is '{Schedule}'.");
            if (SwaStartEpoch > 0 || TrainLossTarget is not null)
                throw new ArgumentException("SWAD picks its own window and stops on its held-out losses: it combines neither with SWA nor with a train-loss target.");
            if (Epochs % swad.SegmentEpochs != 0)
                throw new ArgumentException($"SWAD: {Epochs} epochs are not a whole number of {swad.SegmentEpochs}-epoch segments.");
        }
        if (Federated is { } federated)
        {
            if (federated.Problem() is { } federatedProblem) throw new ArgumentException($"{federatedProblem}.");
            if (SwaStartEpoch > 0 || Swad is not null || TrainLossTarget is not null || MeanSquaredError)
                throw new ArgumentException("FedAvg here averages clients' classifiers trained for a fixed number of rounds: it combines with neither SWA, SWAD, a train-loss target nor a regression loss.");
            federated.Rounds(Epochs);
        }
    }
}
