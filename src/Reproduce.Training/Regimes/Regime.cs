using Reproduce.Training.Federated;

namespace Reproduce.Training.Regimes;

/// <summary>
/// A training regime as data: what it changes relative to the setting's base recipe. Null fields keep the base
/// recipe's value. The paper's regimes: Base, WD (coupled L2 5e-4), Aug (crop pad 4 + flip), SAM (rho 0.05), and
/// their combinations; the related work adds large-batch (Keskar et al.), SWA (Izmailov et al.) and SWAD (Cha et al.).
/// </summary>
public sealed record Regime
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public double WeightDecay { get; init; }
    public bool Augment { get; init; }
    public double SamRho { get; init; }
    /// <summary>m-sharpness micro-batch size for SAM; 0 = the whole batch.</summary>
    public int SamMicroBatch { get; init; }
    /// <summary>Batch size multiplier (large-batch regime), with the learning rate kept as in the base recipe.</summary>
    public int BatchMultiplier { get; init; } = 1;
    /// <summary>Epoch multiplier: with <see cref="BatchMultiplier"/> it trains a large batch for as many samples (and so about
    /// as many steps, batches rounding up) as the base recipe's budget allows the small batch, instead of for as many
    /// epochs. Null = 1; left out of the serialised record then, so no other regime's run key changes.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? EpochMultiplier
    {
        get => epochMultiplier;
        init => epochMultiplier = value is null or >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(EpochMultiplier), value, $"Regime '{Name}': the epoch multiplier must be at least 1.");
    }
    private readonly int? epochMultiplier;
    /// <summary>SWA: average the weights at the end of each epoch from this fraction of the run on; 0 = off.</summary>
    public double SwaStartFraction { get; init; }
    /// <summary>The optimiser to train with instead of the setting's (a name in the optimiser registry); null keeps the setting's.</summary>
    public string? Optimiser { get; init; }
    /// <summary>
    /// The optimiser's own hyper-parameters by name (its registration's defaults for the rest): with <see cref="Optimiser"/>
    /// they belong to that optimiser; without, they override the setting's. Left out of the serialised record when
    /// null, so the run keys of every regime without any are unchanged by its existence.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? OptimiserParameters { get; init; }
    /// <summary>
    /// Added to the seed for initialisation, batch order and measurement draws: a negative control trains Base's recipe
    /// on disjoint seeds under another name. Left out of the serialised record when 0, so the run keys (hashes of the
    /// recipe) of every other regime are unchanged by its existence.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int SeedOffset { get; init; }
    /// <summary>
    /// Multiplies the setting's learning rate, for a regime whose optimiser wants another step size than the setting's
    /// (Lion's sign update moves every weight by the full learning rate, so it needs a several times smaller one than
    /// SGD). Null = the setting's learning rate unchanged; left out of the serialised record then, so the run keys of
    /// every regime that does not set it are unchanged by its existence. Must be positive and finite.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LearningRateScale
    {
        get => learningRateScale;
        init => learningRateScale = value is not { } scale || (double.IsFinite(scale) && scale > 0) ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRateScale), value, $"Regime '{Name}': the learning-rate scale must be positive and finite.");
    }
    private readonly double? learningRateScale;

    /// <summary>
    /// Label-noise SGD (<see cref="PerStepLabelNoise"/>): the probability that a batch label is perturbed afresh at each
    /// step; 0 = off. Left out of the serialised record when 0, so the run keys of every other regime are unchanged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double LabelNoiseProbability { get; init; }
    /// <summary>Label-noise SGD on regression targets: the size sigma of the +-sigma perturbation. Left out when 0.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double LabelNoiseScale { get; init; }

    /// <summary>The per-step label noise this regime trains with, or null. Derived from the two fields above, so never
    /// serialised (a null member in the record's JSON would change every run key).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public PerStepLabelNoise? LabelNoise => LabelNoiseProbability > 0 ? new PerStepLabelNoise(LabelNoiseProbability, LabelNoiseScale) : null;

    /// <summary>
    /// FAM (<see cref="RelativeFlatnessRegulariser"/>): the coefficient lambda of the relative-flatness term the trainer
    /// adds to every batch loss; 0 = off. Left out of the serialised record when 0, so the run keys of every other
    /// regime are unchanged.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double RelativeFlatnessCoefficient { get; init; }

    /// <summary>The relative-flatness term this regime trains with, or null. Derived, so never serialised.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public RelativeFlatnessRegulariser? RelativeFlatness => RelativeFlatnessCoefficient > 0 ? new RelativeFlatnessRegulariser(RelativeFlatnessCoefficient) : null;

    public bool IsRegularised => WeightDecay > 0 || Augment || SamRho > 0 || SwaStartFraction > 0 || LabelNoiseProbability > 0 || RelativeFlatnessCoefficient > 0 || Swad is not null;

    /// <summary>SWAD (Cha et al. 2021): dense iterate averaging over a loss-valley window picked on a held-out split
    /// (<see cref="Optimisers.SwadSettings"/>); null = off. Left out of the serialised record when null, so the run keys of
    /// every other regime are unchanged by its existence.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Optimisers.SwadSettings? Swad { get; init; }

    /// <summary>Incremental few-shot learning (<see cref="Incremental.IncrementalFewShot"/>): the run is the base training
    /// on the base classes, the sessions are run on its model when measured; null = off. Left out of the serialised record
    /// when null, so the run keys of every other regime are unchanged by its existence.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Incremental.IncrementalSettings? Incremental { get; init; }
    /// <summary>FedAvg simulated in process (<see cref="FederatedSettings"/>): the setting's training subset split among
    /// clients by a Dirichlet label skew, the regime's recipe as the clients' local training; null = centralised. Left out
    /// of the serialised record when null, so the run keys of every other regime are unchanged by its existence.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public FederatedSettings? Federated { get; init; }

}
