namespace Reproduce.Training.Federated;

/// <summary>
/// FedAvg simulated in-process (McMahan et al. 2017; the protocol of Caldarola, Caputo, Ciccone, ECCV 2022,
/// arXiv 2203.11834, debcaldarola/fedsam): the setting's training subset is split among <see cref="Clients"/> clients of
/// equal size by the Dirichlet label skew of Hsu, Qi and Brown 2019 (<see cref="DirichletSplit"/>, concentration
/// <see cref="Alpha"/> times the uniform class prior); each round the server samples <see cref="ClientsPerRound"/> of
/// them without replacement, each trains the global weights for <see cref="LocalEpochs"/> epochs with the recipe's own
/// optimiser (SGD, SAM or ASAM; a fresh optimiser state every round), and the server sets the global weights to the
/// sample-weighted mean of theirs (<see cref="FederatedAveraging"/>).
/// The setting's epochs keep their meaning, passes over the training subset: a round covers ClientsPerRound x
/// LocalEpochs / Clients of them in expectation, so the run has epochs x Clients / (ClientsPerRound x LocalEpochs)
/// rounds, the same number of sample-gradient evaluations as the centralised recipe (<see cref="Rounds"/>).
/// Part of a regime's record, so part of its runs' keys.
/// </summary>
public sealed record FederatedSettings
{
    /// <summary>K: the clients the training subset is split among (the subset's size must be a multiple).</summary>
    public int Clients { get; init; } = 20;
    /// <summary>C: the clients sampled (without replacement) in each round.</summary>
    public int ClientsPerRound { get; init; } = 5;
    /// <summary>E: local epochs each sampled client trains for in a round.</summary>
    public int LocalEpochs { get; init; } = 1;
    /// <summary>The Dirichlet concentration: each client's class proportions are q_k ~ Dir(alpha p), p the uniform class
    /// prior; small alpha = few classes per client, large alpha = nearly IID.</summary>
    public double Alpha { get; init; } = 0.05;

    /// <summary>Server-side SWA (Caldarola et al.'s +SWA variants; <see cref="ServerSwaSettings"/>); null = off. Left out
    /// of the serialised record when null, so the run keys of the plain federated regimes are unchanged by its existence.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ServerSwaSettings? ServerSwa { get; init; }

    /// <summary>The problem with these values, or null.</summary>
    public string? Problem() =>
        ServerSwa?.Problem() is { } swa ? swa
        : Clients < 1 ? "FedAvg needs at least one client"
        : ClientsPerRound < 1 || ClientsPerRound > Clients ? $"FedAvg samples 1 to {Clients} clients per round (got {ClientsPerRound})"
        : LocalEpochs < 1 ? "FedAvg's clients train at least one local epoch"
        : !(Alpha > 0 && double.IsFinite(Alpha)) ? "the Dirichlet concentration alpha must be positive and finite"
        : null;

    /// <summary>n: each client's share of a training subset of <paramref name="trainSize"/> samples.</summary>
    public int ClientSize(long trainSize) => trainSize % Clients == 0 && trainSize >= Clients ? (int)(trainSize / Clients)
        : throw new ArgumentException($"FedAvg splits the training subset into {Clients} clients of equal size; {trainSize} samples are not a positive multiple of {Clients}.");

    /// <summary>R = epochs x K / (C x E): the rounds for <paramref name="epochs"/> expected passes over the training subset.</summary>
    public int Rounds(int epochs) => (long)epochs * Clients % ((long)ClientsPerRound * LocalEpochs) == 0
        ? checked((int)((long)epochs * Clients / ((long)ClientsPerRound * LocalEpochs)))
        : throw new ArgumentException($"FedAvg: {epochs} epochs x {Clients} clients are not a whole number of rounds of {ClientsPerRound} clients x {LocalEpochs} local epochs.");

    public string Describe() => $"FedAvg: {Clients} clients (Dirichlet alpha {Alpha:g4}), {ClientsPerRound} per round, {LocalEpochs} local epoch{(LocalEpochs == 1 ? "" : "s")}"
        + (ServerSwa is { } swa ? $", server SWA from round {swa.StartRound(1) + 1} of R every {swa.Cycle}" : "");
}

/// <summary>
/// Server-side SWA as debcaldarola/fedsam's code does it (models/main.py, schedule_cycling_lr; rounds i = 0 .. R-1):
/// <code>
///   s0 = floor(StartFraction R)
///   for i &gt;= s0: the clients' learning rate is cyclic, lr(i) = (1 - t) lr1 + t lr2, t = ((i mod c) + 1) / c,
///                lr1 the recipe's rate, lr2 = <see cref="LearningRate"/>
///   at i = s0, after aggregation: w_SWA = w^{i+1}, n = 0
///   for i &gt; s0 with (i - s0) mod c == 0, after aggregation: w_SWA = (1 - a) w_SWA + a w^{i+1}, a = 1 / (n + 1); n += 1
/// </code>
/// and the model the run ends with (the one measured) is w_SWA. The first update has a = 1, so it replaces the copy
/// taken at s0: w_SWA is the mean of the global models after rounds s0 + c, s0 + 2c, ... (none when s0 + c &gt; R - 1,
/// which <see cref="Problem"/> cannot see without R; the trainer refuses it).
/// </summary>
public sealed record ServerSwaSettings
{
    /// <summary>The fraction of the rounds after which SWA starts (the code's --swa-start over the rounds; 0.75 in its scripts).</summary>
    public double StartFraction { get; init; } = 0.75;
    /// <summary>c: the cycle, in rounds, of the clients' learning rate and of the server's averaging (10 in the code's scripts).</summary>
    public int Cycle { get; init; } = 10;
    /// <summary>lr2: the low end of the cyclic learning rate (the code's --swa-lr, default 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;

    public string? Problem() =>
        !(StartFraction >= 0 && StartFraction < 1) ? $"server SWA starts at a fraction of the rounds in [0, 1) (got {StartFraction})"
        : Cycle < 1 ? $"server SWA's cycle is at least one round (got {Cycle})"
        : !(LearningRate > 0 && double.IsFinite(LearningRate)) ? $"server SWA's low learning rate must be positive and finite (got {LearningRate})"
        : null;

    /// <summary>s0 = floor(StartFraction R), 0-based.</summary>
    public int StartRound(int rounds) => (int)Math.Floor(StartFraction * rounds);

    /// <summary>The clients' learning rate in round i (0-based): the recipe's before s0, cyclic from s0.</summary>
    public double ClientLearningRate(int round, int rounds, double recipeRate)
    {
        if (round < StartRound(rounds)) return recipeRate;
        double t = (double)(round % Cycle + 1) / Cycle;
        return (1 - t) * recipeRate + t * LearningRate;
    }

    /// <summary>Whether the global model after round i (0-based) enters the average (i &gt; s0, (i - s0) mod c = 0).</summary>
    public bool Averages(int round, int rounds) => round > StartRound(rounds) && (round - StartRound(rounds)) % Cycle == 0;

    /// <summary>How many global models the average holds after R rounds.</summary>
    public int AveragedModels(int rounds) => Enumerable.Range(0, rounds).Count(i => Averages(i, rounds));
}
