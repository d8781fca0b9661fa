using System.Text.Json;
using NUnit.Framework;
using Reproduce.Training;
using Reproduce.Training.Data;
using Reproduce.Training.Federated;
using Reproduce.Training.Models;
using Reproduce.Training.Regimes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Federated;

/// <summary>FedAvg's server loop: one client for one round is the plain trainer's run bit for bit; several clients over
/// several rounds are the loop written out by hand; the settings' rules; the regimes' records.</summary>
[TestFixture, Category("Unit")]
public class FederatedTrainerTests
{
    /// <summary>80 random 12-pixel "images" of 4 classes (int64 labels), seeded.</summary>
    private static Dataset Data()
    {
        var g = new Generator(5);
        return new Dataset(randn(new long[] { 80, 12 }, generator: g), randint(0, 4, new long[] { 80 }, generator: g), "random");
    }

    private static Mlp Model() => new([12, 16, 4], seed: 2);

    private static void AssertSameWeights(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b, string what)
    {
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
            Assert.That(pa.eq(pb).all().item<bool>(), Is.True, what);
    }

    [TestCase("sgd", 0.0)]
    [TestCase("sgd", 0.05)]
    [TestCase("asam", 0.0)]
    public void OneRoundOfOneClientIsThePlainTrainersRunBitForBit(string optimiser, double samRho)
    {
        // K = C = 1, E = 3 and 3 epochs: R = 3 x 1 / (1 x 3) = 1 round. The one client holds every sample (in the
        // split's draw order); its local run is the trainer's on those samples with the client's seed, and averaging
        // one client (coefficient n/n = 1) changes no bit.
        using var scope = NewDisposeScope();
        using var data = Data();
        var settings = new FederatedSettings { Clients = 1, ClientsPerRound = 1, LocalEpochs = 3, Alpha = 0.5 };
        var options = new TrainerOptions { Epochs = 3, BatchSize = 16, LearningRate = 0.05, Momentum = 0.9, Seed = 7, Optimiser = optimiser, SamRho = samRho };
        var federated = Model();
        var result = new Trainer().Train(federated, data, options with { Federated = settings });
        Assert.That(result.Epochs, Has.Count.EqualTo(1), "one round");

        using var client = FederatedTrainer.ClientData(data, FederatedTrainer.Split(data, settings, options.Seed)[0], 0);
        Assert.That(client.Count, Is.EqualTo(data.Count));
        var plain = Model();
        var local = new Trainer().Train(plain, client, options with { Seed = FederatedTrainer.ClientSeed(options.Seed, 1, 0) });
        AssertSameWeights(federated, plain, "FedAvg with one client for one round = plain training");
        Assert.That(result.Steps, Is.EqualTo(local.Steps));
        Assert.That(result.Epochs[0].Loss, Is.EqualTo(local.Epochs[^1].Loss), "the round's log is its client's last epoch");
        // Not vacuous: another client seed gives other weights.
        var other = Model();
        new Trainer().Train(other, client, options with { Seed = FederatedTrainer.ClientSeed(options.Seed, 2, 0) });
        Assert.That(federated.parameters().Zip(other.parameters()).All(t => t.First.eq(t.Second).all().item<bool>()), Is.False);
    }

    [Test]
    public void SeveralRoundsOfSeveralClientsAreTheLoopWrittenOutByHand()
    {
        // K = 4 clients of 20, C = 2 per round, E = 1, 2 epochs: R = 2 x 4 / (2 x 1) = 4 rounds. By hand: each sampled
        // client trains from the round's global weights; the global weights become their sample-weighted average.
        using var scope = NewDisposeScope();
        using var data = Data();
        var settings = new FederatedSettings { Clients = 4, ClientsPerRound = 2, LocalEpochs = 1, Alpha = 0.3 };
        var options = new TrainerOptions { Epochs = 2, BatchSize = 8, LearningRate = 0.05, Momentum = 0.9, Seed = 3 };
        var federated = Model();
        var result = new Trainer().Train(federated, data, options with { Federated = settings });
        Assert.That(result.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3, 4 }));

        var split = FederatedTrainer.Split(data, settings, options.Seed);
        var clients = split.Select((indices, k) => FederatedTrainer.ClientData(data, indices, k)).ToList();
        var global = Model();
        var weights = global.parameters().ToList();
        long steps = 0;
        var sampled = new HashSet<int>();
        for (int round = 1; round <= 4; round++)
        {
            var start = weights.Select(w => w.detach().clone()).ToList();
            var updates = new List<(long, IReadOnlyList<Tensor>)>();
            var chosen = FederatedTrainer.SampleClients(4, 2, options.Seed, round);
            Assert.That(chosen.Distinct().Count(), Is.EqualTo(2), "sampled without replacement");
            foreach (int k in chosen)
            {
                sampled.Add(k);
                using (no_grad()) for (int i = 0; i < weights.Count; i++) weights[i].copy_(start[i]);
                steps += new Trainer().Train(global, clients[k], options with { Epochs = 1, Seed = FederatedTrainer.ClientSeed(options.Seed, round, k) }).Steps;
                updates.Add((clients[k].Count, weights.Select(w => w.detach().clone()).ToList()));
            }
            var average = FederatedAveraging.Average(updates);
            using (no_grad()) for (int i = 0; i < weights.Count; i++) weights[i].copy_(average[i]);
        }
        AssertSameWeights(federated, global, "the server loop = the loop by hand");
        Assert.That(result.Steps, Is.EqualTo(steps));
        Assert.That(sampled.Count, Is.GreaterThan(2), "over four rounds the sampler reaches more than one pair of clients");
        foreach (var c in clients) c.Dispose();
    }

    [Test]
    public void ServerSwaFollowsTheCodesScheduleAndAverage()
    {
        // R = 12 rounds (i = 0 .. 11), s0 = floor(0.5 x 12) = 6, c = 2, lr2 = 1e-3: the clients' rate is lr1 for i < 6,
        // then (1 - t) lr1 + t lr2 with t = ((i mod 2) + 1) / 2, i.e. the mean of lr1 and lr2 at even i and lr2 at odd i;
        // the average takes the copy at i = 6, is replaced at i = 8 (a = 1) and gets w^{after 10} with a = 1/2.
        var swa = new ServerSwaSettings { StartFraction = 0.5, Cycle = 2, LearningRate = 1e-3 };
        Assert.That(swa.StartRound(12), Is.EqualTo(6));
        Assert.That(Enumerable.Range(0, 12).Select(i => swa.ClientLearningRate(i, 12, 0.05)),
            Is.EqualTo(new[] { 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.0255, 0.001, 0.0255, 0.001, 0.0255, 0.001 }).Within(1e-15));
        Assert.That(Enumerable.Range(0, 12).Where(i => swa.Averages(i, 12)), Is.EqualTo(new[] { 8, 10 }));
        Assert.That(swa.AveragedModels(12), Is.EqualTo(2));

        using var scope = NewDisposeScope();
        using var data = Data();
        var settings = new FederatedSettings { Clients = 4, ClientsPerRound = 2, LocalEpochs = 1, Alpha = 0.3, ServerSwa = swa };
        var options = new TrainerOptions { Epochs = 6, BatchSize = 8, LearningRate = 0.05, Momentum = 0.9, Seed = 3 };
        var federated = Model();
        new Trainer().Train(federated, data, options with { Federated = settings });

        // The loop by hand: FedAvg with the cyclic rate written out, every global model kept.
        var split = FederatedTrainer.Split(data, settings, options.Seed);
        var clients = split.Select((indices, k) => FederatedTrainer.ClientData(data, indices, k)).ToList();
        var global = Model();
        var weights = global.parameters().ToList();
        var globals = new List<List<Tensor>>();
        double[] rates = [0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.0255, 0.001, 0.0255, 0.001, 0.0255, 0.001];
        for (int round = 1; round <= 12; round++)
        {
            var start = weights.Select(w => w.detach().clone()).ToList();
            var updates = new List<(long, IReadOnlyList<Tensor>)>();
            foreach (int k in FederatedTrainer.SampleClients(4, 2, options.Seed, round))
            {
                using (no_grad()) for (int i = 0; i < weights.Count; i++) weights[i].copy_(start[i]);
                new Trainer().Train(global, clients[k], options with { Epochs = 1, LearningRate = rates[round - 1], Seed = FederatedTrainer.ClientSeed(options.Seed, round, k) });
                updates.Add((clients[k].Count, weights.Select(w => w.detach().clone()).ToList()));
            }
            var average = FederatedAveraging.Average(updates);
            using (no_grad()) for (int i = 0; i < weights.Count; i++) weights[i].copy_(average[i]);
            globals.Add(weights.Select(w => w.detach().clone()).ToList());
        }
        // The run's model is the mean of the global models after rounds i = 8 and i = 10 (1-based 9 and 11), in float64.
        foreach (var (p, i) in federated.parameters().Select((p, i) => (p, i)))
        {
            var expected = (globals[8][i].to_type(ScalarType.Float64) + globals[10][i].to_type(ScalarType.Float64)) / 2;
            double error = (p.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
            Assert.That(error, Is.LessThan(1e-6), $"parameter {i}: the SWA mean of rounds 9 and 11");
            // Not vacuous: the last global model is not the average.
            Assert.That((globals[11][i].to_type(ScalarType.Float64) - expected).abs().max().item<double>(), Is.GreaterThan(1e-5));
        }
        foreach (var c in clients) c.Dispose();

        // A schedule that averages nothing is refused, and bad values are the settings' problems.
        Assert.Throws<ArgumentException>(() => new Trainer().Train(Model(), data, options with { Epochs = 2, Federated = settings with { ServerSwa = swa with { StartFraction = 0.9 } } }));
        Assert.That(new ServerSwaSettings { Cycle = 0 }.Problem(), Does.Contain("cycle"));
        Assert.That(new ServerSwaSettings { StartFraction = 1 }.Problem(), Does.Contain("[0, 1)"));
        Assert.That((settings with { ServerSwa = new ServerSwaSettings { LearningRate = -1 } }).Problem(), Does.Contain("low learning rate"));
    }

    [Test]
    public void TheClientSampleIsSeededAndWithoutReplacement()
    {
        var a = FederatedTrainer.SampleClients(20, 5, seed: 1, round: 3);
        Assert.That(a, Has.Length.EqualTo(5));
        Assert.That(a, Is.Unique);
        Assert.That(a, Is.All.InRange(0, 19));
        Assert.That(FederatedTrainer.SampleClients(20, 5, 1, 3), Is.EqualTo(a));
        Assert.That(FederatedTrainer.SampleClients(20, 5, 1, 4), Is.Not.EqualTo(a), "each round draws afresh");
        Assert.That(FederatedTrainer.SampleClients(20, 20, 1, 3).Order(), Is.EqualTo(Enumerable.Range(0, 20)));
    }

    [Test]
    public void TheSettingsRulesAreChecked()
    {
        using var scope = NewDisposeScope();
        using var data = Data();
        var recipe = new TrainerOptions { Epochs = 2, BatchSize = 8, LearningRate = 0.05 };
        Assert.That(new FederatedSettings().Rounds(8), Is.EqualTo(32), "8 passes of 20 clients, 5 per round, 1 local epoch");
        Assert.That(() => new Trainer().Train(Model(), data, recipe with { Federated = new() { Clients = 3, ClientsPerRound = 4 } }),
            Throws.ArgumentException.With.Message.Contains("1 to 3 clients per round"));
        Assert.That(() => new Trainer().Train(Model(), data, recipe with { Federated = new() { Clients = 4, ClientsPerRound = 3 } }),
            Throws.ArgumentException.With.Message.Contains("not a whole number of rounds"));
        Assert.That(() => new Trainer().Train(Model(), data, recipe with { Federated = new() { Clients = 3, ClientsPerRound = 1 } }),
            Throws.ArgumentException.With.Message.Contains("80 samples are not a positive multiple of 3"));
        Assert.That(() => new Trainer().Train(Model(), data, recipe with { Federated = new() { Clients = 4, ClientsPerRound = 2 }, SwaStartEpoch = 1 }),
            Throws.ArgumentException.With.Message.Contains("SWA"));
        Assert.That(() => new Trainer { Observer = new TrainingObserver(1, _ => { }) }.Train(Model(), data, recipe with { Federated = new() { Clients = 4, ClientsPerRound = 2 } }),
            Throws.ArgumentException.With.Message.Contains("not observed"));
        Assert.That(() => RegimeRegistry.Register(new Regime { Name = "FedBad", Description = "x", Federated = new() { Alpha = 0 } }),
            Throws.ArgumentException.With.Message.Contains("Regime 'FedBad'").And.Message.Contains("alpha"));
    }

    [Test]
    public void TheFederatedRegimesCarryTheirProtocolAndOtherRegimesRecordsHaveNoFederatedMember()
    {
        var recipe = new TrainerOptions { Epochs = 8, BatchSize = 50, LearningRate = 0.02, Momentum = 0.9 };
        var fedAvg = recipe.With(RegimeRegistry.Get("FedAvg"));
        Assert.That(fedAvg.Federated, Is.EqualTo(new FederatedSettings { Clients = 20, ClientsPerRound = 5, LocalEpochs = 1, Alpha = 0.05 }));
        Assert.That(fedAvg.Optimiser, Is.EqualTo("sgd"));
        Assert.That(recipe.With(RegimeRegistry.Get("FedSAM")).SamRho, Is.EqualTo(RegimeRegistry.PaperSamRho));
        var asam = recipe.With(RegimeRegistry.Get("FedASAM"));
        Assert.That((asam.Optimiser, asam.OptimiserParameters!["rho"], asam.OptimiserParameters["eta"]), Is.EqualTo(("asam", 0.5, 0.01)));
        Assert.That(asam.OptimiserParameters, Is.EqualTo(recipe.With(RegimeRegistry.Get("ASAM")).OptimiserParameters), "FedASAM's clients use the ASAM regime's values");
        // The run key hashes the regime's record (web JSON, as RunSpec): a regime without FedAvg has no such member.
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        foreach (var name in RegimeRegistry.Names.Where(n => !n.StartsWith("Fed", StringComparison.Ordinal)))
            Assert.That(JsonSerializer.Serialize(RegimeRegistry.Get(name), web), Does.Not.Contain("federated"), name);
        Assert.That(JsonSerializer.Serialize(RegimeRegistry.Get("FedAvg"), web), Does.Contain("\"federated\":{\"clients\":20,\"clientsPerRound\":5,\"localEpochs\":1,\"alpha\":0.05}"));
    }
}
