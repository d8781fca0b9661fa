using Reproduce.Runtime.Devices;
using TorchSharp;
using Reproduce.Training.Data;
using static TorchSharp.torch;

namespace Reproduce.Training.Federated;

/// <summary>
/// FedAvg's server loop, in process (<see cref="FederatedSettings"/>): the training set is split among K clients by
/// <see cref="DirichletSplit"/>; then for each round t = 1 .. R
/// <code>
///   S_t = C of the K clients, sampled without replacement (seeded by the run's seed and t)
///   for k in S_t:  w_k = the plain trainer's run from w^t on client k's samples, E epochs, the recipe's optimiser
///   w^{t+1} = sum_{k in S_t} n_k w_k / sum_{k in S_t} n_k          (FederatedAveraging)
/// </code>
/// A client's local training is exactly a <see cref="Trainer"/> run of E epochs on its samples (a fresh optimiser, so
/// SGD's momentum buffer, SAM's and ASAM's state start empty every round, as in FedAvg's stateless clients), seeded by
/// <see cref="ClientSeed"/>: one round of one client is bit for bit the plain trainer's run. Every floating-point
/// entry of the model's state (parameters and float buffers, e.g. BatchNorm's running statistics, as the code's
/// state_dict average does) is averaged; integer buffers keep the global model's value.
/// Each round's log (an <see cref="EpochLog"/> whose epoch is the round) holds the n_k-weighted mean over the round's
/// clients of their last local epoch's loss and accuracy. A client that diverges stops the run, recorded as diverged
/// at the step it reached counted over all clients' local steps so far.
/// </summary>
public static class FederatedTrainer
{
    /// <summary>Stream tags for <see cref="SplitMix64.Derive"/>: the split, each round's client sample, each local run.</summary>
    private const long SplitStream = 1, SampleStream = 2, ClientStream = 3;

    /// <summary>The training seed of client <paramref name="client"/>'s local run in round <paramref name="round"/> (1-based).</summary>
    public static long ClientSeed(long seed, int round, int client) => SplitMix64.Derive(seed, ClientStream, (long)round << 32 | (uint)client);

    /// <summary>The seed of the run's client split.</summary>
    public static long SplitSeed(long seed) => SplitMix64.Derive(seed, SplitStream, 0);

    /// <summary>The run's split of <paramref name="data"/> (class labels 0 .. max) into the settings' clients.</summary>
    public static int[][] Split(Dataset data, FederatedSettings settings, long seed)
    {
        if (data.Targets.dtype != ScalarType.Int64 || data.Targets.dim() != 1)
            throw new ArgumentException($"{data.Name}: FedAvg's label-skewed split needs class labels (a vector of int64); this data's targets are {data.Targets.dtype} of shape [{string.Join(", ", data.Targets.shape)}].");
        var labels = HostRead.ToArray<long>(data.Targets);
        int classes = checked((int)labels.Max() + 1);
        return DirichletSplit.Split(labels, classes, settings.Clients, settings.ClientSize(data.Count), settings.Alpha, SplitSeed(seed));
    }

    /// <summary>The <paramref name="perRound"/> of <paramref name="clients"/> clients sampled in round <paramref name="round"/>:
    /// the first draws of a seeded Fisher-Yates shuffle (without replacement), in draw order.</summary>
    public static int[] SampleClients(int clients, int perRound, long seed, int round)
    {
        var random = new SplitMix64((ulong)SplitMix64.Derive(seed, SampleStream, round));
        var order = Enumerable.Range(0, clients).ToArray();
        for (int i = 0; i < perRound; i++)
        {
            int j = i + random.NextInt(clients - i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..perRound];
    }

    /// <summary>Trains <paramref name="model"/> (the global model, initialised by the caller) by FedAvg as
    /// <paramref name="options"/>.Federated says; the model ends holding the last global weights, in evaluation mode.</summary>
    public static TrainingResult Train(nn.Module<Tensor, Tensor> model, Dataset data, TrainerOptions options, Action<EpochLog>? progress = null)
    {
        var settings = options.Federated ?? throw new ArgumentException("The recipe names no federated settings.", nameof(options));
        int rounds = settings.Rounds(options.Epochs);
        var local = options with { Federated = null, Epochs = settings.LocalEpochs };
        var split = Split(data, settings, options.Seed);
        var state = model.state_dict().Where(kv => kv.Value.is_floating_point()).Select(kv => kv.Value).ToList();
        var clients = new Dataset?[settings.Clients];
        var logs = new List<EpochLog>();
        long steps = 0;
        var swa = settings.ServerSwa;
        if (swa is not null && swa.AveragedModels(rounds) == 0)
            throw new ArgumentException($"Server SWA from round {swa.StartRound(rounds)} every {swa.Cycle} rounds averages no global model in {rounds} rounds; use a shorter cycle or an earlier start.");
        List<Tensor>? average = null;
        int averaged = 0;
        try
        {
            for (int round = 1; round <= rounds; round++)
            {
                using var roundScope = NewDisposeScope();
                var global = state.Select(t => t.detach().clone()).ToList();
                var updates = new List<(long, IReadOnlyList<Tensor>)>();
                double loss = 0, accuracy = 0, samples = 0;
                foreach (int k in SampleClients(settings.Clients, settings.ClientsPerRound, options.Seed, round))
                {
                    clients[k] ??= ClientData(data, split[k], k);
                    Load(state, global);
                    var recipe = local with { Seed = ClientSeed(options.Seed, round, k) };
                    if (swa is not null) recipe = recipe with { LearningRate = swa.ClientLearningRate(round - 1, rounds, local.LearningRate) };
                    var result = new Trainer().Train(model, clients[k]!, recipe);
                    if (result.Diverged)
                    {
                        model.eval();
                        return new TrainingResult(logs, steps + result.Steps, true, steps + result.DivergedAtStep);
                    }
                    steps += result.Steps;
                    long n = clients[k]!.Count;
                    updates.Add((n, state.Select(t => t.detach().clone()).ToList()));
                    loss += n * result.Epochs[^1].Loss; accuracy += n * result.Epochs[^1].Accuracy; samples += n;
                }
                Load(state, FederatedAveraging.Average(updates));
                if (swa is not null && (round - 1 == swa.StartRound(rounds) || swa.Averages(round - 1, rounds)))
                {
                    // w_SWA = (1 - a) w_SWA + a w, a = 1 / (n + 1): the copy taken at s0 (n = 0) is replaced by the first update.
                    if (average is null) average = [.. state.Select(t => t.detach().clone().DetachFromDisposeScope())];
                    else
                    {
                        double a = 1.0 / (averaged + 1);
                        using (no_grad()) for (int i = 0; i < state.Count; i++) average[i].mul_(1 - a).add_(state[i], alpha: a);
                        averaged++;
                    }
                }
                var log = new EpochLog(round, loss / samples, accuracy / samples);
                logs.Add(log);
                progress?.Invoke(log);
            }
            // The run's model is the server's SWA average (the code evaluates w_SWA).
            if (average is not null) Load(state, average);
        }
        finally
        {
            // The average lives outside every round's scope: freed here on every exit (end, divergence, exception).
            average?.ForEach(t => t.Dispose());
            foreach (var client in clients) client?.Dispose();
        }
        model.eval();
        return new TrainingResult(logs, steps, false, null);
    }

    /// <summary>Client <paramref name="k"/>'s samples, in the split's draw order (the trainer shuffles them each epoch).</summary>
    public static Dataset ClientData(Dataset data, int[] indices, int k)
    {
        using var scope = NewDisposeScope();
        var index = tensor(indices.Select(i => (long)i).ToArray());
        return new Dataset(data.Inputs.index_select(0, index), data.Targets.index_select(0, index), $"{data.Name}[client {k}, {indices.Length} samples]");
    }

    private static void Load(IReadOnlyList<Tensor> state, IReadOnlyList<Tensor> values)
    {
        using (no_grad()) for (int i = 0; i < state.Count; i++) state[i].copy_(values[i]);
    }
}
