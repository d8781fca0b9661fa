namespace Reproduce.Training.Regimes;

/// <summary>
/// The regimes by name. Claims refer to them by these names; an unknown name lists the valid ones. A new regime is one
/// <see cref="Register"/> line (a <see cref="Regime"/> record with a name and a description); the claim schema's regime
/// enum and <c>reproduce list regimes</c> are read from here. A registered regime's record is part of the key of
/// every run it trains: changing a field of an existing regime (its description included) retrains its runs.
/// </summary>
public static class RegimeRegistry
{
    public const double PaperWeightDecay = 5e-4, PaperSamRho = 0.05;

    private static readonly Dictionary<string, Regime> regimes = new(StringComparer.Ordinal);
    private static readonly object gate = new();

    static RegimeRegistry()
    {
        Register(new Regime { Name = "Base", Description = "the setting's recipe, no regulariser" });
        Register(new Regime { Name = "WD", Description = "coupled weight decay 5e-4", WeightDecay = PaperWeightDecay });
        Register(new Regime { Name = "Aug", Description = "random crop (pad 4) + horizontal flip", Augment = true });
        Register(new Regime { Name = "SAM", Description = "SAM, rho 0.05", SamRho = PaperSamRho });
        Register(new Regime { Name = "Aug+SAM", Description = "augmentation and SAM", Augment = true, SamRho = PaperSamRho });
        Register(new Regime { Name = "WD+SAM", Description = "weight decay and SAM", WeightDecay = PaperWeightDecay, SamRho = PaperSamRho });
        Register(new Regime { Name = "LargeBatch", Description = "batch size x8, same learning rate (Keskar et al.)", BatchMultiplier = 8 });
        Register(new Regime { Name = "LargeBatch-steps", Description = "batch size x8 for 8x the epochs: as many samples and about as many steps as Base (Keskar et al. train both to convergence)", BatchMultiplier = 8, EpochMultiplier = 8 });
        // Claim 12's pool of minima over learning rate x batch size (the paper's Figure 1 construction, scaled down): Base's
        // recipe at half and twice the setting's learning rate and at twice its batch, as regimes, so that one correlation
        // claim pools them (and reports Kendall's tau within each) with the regularisers at the setting's own values.
        Register(new Regime { Name = "Base-lr0.5", Description = "Base at half the setting's learning rate (claim 12's learning-rate x batch pool)", LearningRateScale = 0.5 });
        Register(new Regime { Name = "Base-lr2", Description = "Base at twice the setting's learning rate (claim 12's learning-rate x batch pool)", LearningRateScale = 2 });
        Register(new Regime { Name = "Base-b2", Description = "Base at twice the setting's batch size, same learning rate and epochs (claim 12's learning-rate x batch pool)", BatchMultiplier = 2 });
        Register(new Regime { Name = "Base-lr0.5-b2", Description = "Base at half the setting's learning rate and twice its batch size (claim 12's learning-rate x batch pool)", LearningRateScale = 0.5, BatchMultiplier = 2 });
        Register(new Regime { Name = "Base-lr2-b2", Description = "Base at twice the setting's learning rate and twice its batch size (claim 12's learning-rate x batch pool)", LearningRateScale = 2, BatchMultiplier = 2 });
        Register(new Regime { Name = "SWA", Description = "weight averaging over the last half of the run", SwaStartFraction = 0.5 });
        Register(new Regime { Name = "LabelNoiseSGD", Description = "label-noise SGD: every step, each batch label perturbed afresh (regression: +-0.5; classes: resampled uniformly) with probability 1 (Blanc et al. 2020; Damian et al. 2021)", LabelNoiseProbability = 1, LabelNoiseScale = 0.5 });
        // Related methods (issue 16): perturbed-gradient optimisers around the setting's SGD; parameters as their registrations' defaults.
        Register(new Regime { Name = "ASAM", Description = "adaptive SAM (Kwon et al. 2021): ball scaled by |w| + 0.01, rho 0.5", Optimiser = "asam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["eta"] = 0.01, ["rho"] = 0.5 } });
        Register(new Regime { Name = "GAM", Description = "gradient-norm aware minimisation (Zhang et al. 2023, Algorithm 1): + alpha 1 x first-order flatness, rho 0.05", Optimiser = "gam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["alpha"] = 1, ["rho"] = 0.05 } });
        Register(new Regime { Name = "Frob-SAM", Description = "Frob-SAM (Tahmasebi et al. 2024): + lambda/(2 rho^2) x variance of the loss over 2 Gaussian perturbations, rho 0.01, lambda 0.005", Optimiser = "frob-sam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["lambda"] = 0.005, ["rho"] = 0.01, ["samples"] = 2 } });
        Register(new Regime { Name = "Trace-SAM", Description = "Trace-SAM (Tahmasebi et al. 2024): + lambda x the mean gradient change over 1 Gaussian perturbation, biased towards a small Hessian trace; rho 0.01, lambda 1 (the released code's values)", Optimiser = "trace-sam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["lambda"] = 1, ["rho"] = 0.01, ["samples"] = 1 } });
        Register(new Regime { Name = "Det-SAM", Description = "Det-SAM (Tahmasebi et al. 2024): biased towards a small det(H); 1 perturbation uniform in the cube [-0.01, 0.01], rho 1, lambda 1 (the released code's values)", Optimiser = "det-sam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["halfCube"] = 0.01, ["lambda"] = 1, ["rho"] = 1, ["samples"] = 1 } });
        // FAM (Adilova et al. 2023): a loss term, not an optimiser; the setting's SGD steps on L + lambda R.
        Register(new Regime { Name = "FAM", Description = "relative-flatness aware minimisation (Adilova et al. 2023): + 0.1 x (1/m) relative flatness of the classifier layer on each batch, exact closed form and gradient",
            RelativeFlatnessCoefficient = 0.1 });
        Register(new Regime { Name = "SWAD", Description = "SWAD (Cha et al. 2021): every iterate averaged over a loss-valley window of one-epoch segments (N_c 3, N_t 6, tolerance 0.3) picked on a held-out split of the training file (a quarter of trainSize, never trained on; the test set unused); constant learning rate; stops when the valley is dead",
            Swad = new Optimisers.SwadSettings() });
        // F2M (Shi et al. 2021), incremental few-shot learning: both regimes share one protocol (Incremental.IncrementalSettings).
        Register(new Regime { Name = "FSCIL-Base", Description = $"incremental few-shot, standard: cross-entropy base training on classes 0-5, then {FewShotProtocol.Sessions} sessions of {FewShotProtocol.Ways}-way {FewShotProtocol.Shots}-shot, hidden-layer weights fine-tuned without constraint, nearest-class-mean test", Incremental = FewShotProtocol });
        Register(new Regime { Name = "FSCIL-Frozen", Description = "incremental few-shot, no fine-tuning: the same cross-entropy base training as FSCIL-Base, sessions that only add their classes' prototypes from the base model (0 session epochs): the reference every fine-tuning must beat", Incremental = FewShotProtocol with { SessionEpochs = 0 } });
        Register(new Regime { Name = "F2M", Description = "incremental few-shot, F2M (Shi et al. 2021): base training on mean + 2 std of the loss over 2 box-noise draws (width 0.01) of the hidden-layer weights, the same sessions projected onto that box around the base weights", Incremental = FewShotProtocol with { Flat = new Incremental.FlatBoxSettings { Bound = 0.01, NoiseSamples = 2 } } });
        // FedAvg simulated in process (Caldarola et al. 2022): 20 clients, Dirichlet alpha 0.05, 5 per round, 1 local epoch
        // (FederatedSettings' defaults); the clients' local training is the setting's SGD, SAM (rho 0.05) or ASAM (as above).
        Register(new Regime { Name = "FedAvg", Description = "FedAvg (McMahan et al. 2017): 20 clients split by a Dirichlet label skew (alpha 0.05), 5 sampled per round, 1 local epoch of the setting's SGD each, sample-weighted average", Federated = new() });
        Register(new Regime { Name = "FedSAM", Description = "FedSAM (Caldarola et al. 2022): FedAvg whose clients train with SAM, rho 0.05", SamRho = PaperSamRho, Federated = new() });
        Register(new Regime { Name = "FedASAM", Description = "FedASAM (Caldarola et al. 2022): FedAvg whose clients train with ASAM, rho 0.5, eta 0.01", Optimiser = "asam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["eta"] = 0.01, ["rho"] = 0.5 }, Federated = new() });
        // ... and their +SWA variants: server-side SWA as the code does it (Federated.ServerSwaSettings), scaled to the
        // suite's rounds: from 75 % of the rounds, cycle 2 rounds (the code: 10 of 10000), low learning rate 1e-4.
        Register(new Regime { Name = "FedAvg-SWA", Description = "FedAvg with server-side SWA (Caldarola et al. 2022): from 75 % of the rounds the clients' learning rate cycles down to 1e-4 every 2 rounds and the server averages the global models at the cycle's end; the run's model is that average", Federated = new() { ServerSwa = FederatedServerSwa } });
        Register(new Regime { Name = "FedSAM-SWA", Description = "FedSAM with server-side SWA (Caldarola et al. 2022): FedSAM's clients (SAM, rho 0.05), FedAvg-SWA's server average", SamRho = PaperSamRho, Federated = new() { ServerSwa = FederatedServerSwa } });
        Register(new Regime { Name = "FedASAM-SWA", Description = "FedASAM with server-side SWA (Caldarola et al. 2022): FedASAM's clients (ASAM, rho 0.5, eta 0.01), FedAvg-SWA's server average", Optimiser = "asam",
            OptimiserParameters = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["eta"] = 0.01, ["rho"] = 0.5 }, Federated = new() { ServerSwa = FederatedServerSwa } });
        Register(new Regime { Name = "Base-control", Description = "negative control: Base's recipe on disjoint seeds (seed + 1000)", SeedOffset = 1000 });
    }

    /// <summary>The incremental few-shot protocol scaled to Fashion-MNIST's 10 classes: 6 base classes (the paper's 60 of
    /// 100), 2 sessions of 2-way 5-shot; the sessions as the code's incremental config (6 epochs, SGD lr 0.01, momentum 0.9,
    /// weight decay 5e-4).</summary>
    /// <summary>Server-side SWA of the +SWA federated regimes: start 0.75, cycle 2 rounds, low rate 1e-4 (the code's
    /// defaults but the cycle, which its 10000 rounds allow to be 10; the suite's 32 default rounds average 3 models).</summary>
    private static readonly Reproduce.Training.Federated.ServerSwaSettings FederatedServerSwa = new() { StartFraction = 0.75, Cycle = 2, LearningRate = 1e-4 };

    public static readonly Incremental.IncrementalSettings FewShotProtocol = new()
    {
        BaseClasses = 6, Sessions = 2, Ways = 2, Shots = 5, SessionEpochs = 6, SessionLearningRate = 0.01, SessionMomentum = 0.9, SessionWeightDecay = 5e-4,
    };

    public static IReadOnlyList<string> Names { get { lock (gate) return [.. regimes.Keys]; } }

    public static void Register(Regime regime)
    {
        ArgumentNullException.ThrowIfNull(regime);
        if (regime.WeightDecay < 0 || regime.SamRho < 0 || regime.BatchMultiplier < 1 || regime.SwaStartFraction is < 0 or >= 1 || regime.SamMicroBatch < 0)
            throw new ArgumentException($"Regime '{regime.Name}': weight decay and rho must be >= 0, batch multiplier >= 1, SWA start in [0, 1), micro-batch >= 0.");
        if (regime.LabelNoiseProbability is < 0 or > 1 || !(regime.LabelNoiseScale >= 0 && double.IsFinite(regime.LabelNoiseScale)))
            throw new ArgumentException($"Regime '{regime.Name}': the label-noise probability must lie in [0, 1] and its scale be finite and >= 0.");
        if (!(regime.RelativeFlatnessCoefficient >= 0 && double.IsFinite(regime.RelativeFlatnessCoefficient)))
            throw new ArgumentException($"Regime '{regime.Name}': the relative-flatness (FAM) coefficient must be finite and >= 0.");
        if (regime.Swad?.Problem() is { } swad)
            throw new ArgumentException($"Regime '{regime.Name}': {swad}.");
        if (regime.Swad is not null && (regime.SwaStartFraction > 0 || regime.SamRho > 0 || regime.Optimiser is not null || regime.BatchMultiplier != 1 || regime.EpochMultiplier is not null))
            throw new ArgumentException($"Regime '{regime.Name}': SWAD averages the iterates of the setting's own SGD at its own batch and budget; it does not combine with SWA, SAM, another optimiser or a batch or epoch multiplier here.");
        if (regime.Incremental?.Problem() is { } incremental)
            throw new ArgumentException($"Regime '{regime.Name}': {incremental}.");
        if (regime.Federated?.Problem() is { } federated)
            throw new ArgumentException($"Regime '{regime.Name}': {federated}.");
        if (regime.Federated is not null && (regime.Swad is not null || regime.SwaStartFraction > 0))
            throw new ArgumentException($"Regime '{regime.Name}': FedAvg's global model is the clients' average; it does not combine with SWA or SWAD here.");
        if (string.IsNullOrWhiteSpace(regime.Description))
            throw new ArgumentException($"Regime '{regime.Name}': say what it changes in a description (reproduce list regimes shows it).");
        if (regime.Optimiser is not null && regime.OptimiserParameters is { Count: > 0 } && Optimisers.OptimiserRegistry.Contains(regime.Optimiser)
            && Optimisers.OptimiserRegistry.UnknownParameters(regime.Optimiser, regime.OptimiserParameters.Keys) is { } problem)
            throw new ArgumentException($"Regime '{regime.Name}': {problem}.");
        lock (gate) regimes[regime.Name] = regime;
    }

    public static bool Contains(string name) { lock (gate) return regimes.ContainsKey(name); }

    public static Regime Get(string name)
    {
        lock (gate)
            if (regimes.TryGetValue(name, out var regime)) return regime;
        throw new ArgumentException($"Unknown regime '{name}'. Valid: {string.Join(", ", Names)}.");
    }
}
