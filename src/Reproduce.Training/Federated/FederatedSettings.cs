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

    /// <summary>The problem with these values, or null.</summary>
    public string? Problem() =>
        Clients < 1 ? "FedAvg needs at least one client"
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

    public string Describe() => $"FedAvg: {Clients} clients (Dirichlet alpha {Alpha:g4}), {ClientsPerRound} per round, {LocalEpochs} local epoch{(LocalEpochs == 1 ? "" : "s")}";
}
