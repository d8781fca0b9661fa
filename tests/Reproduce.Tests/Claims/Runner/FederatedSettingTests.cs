using NUnit.Framework;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;
using Reproduce.Training.Regimes;

namespace Reproduce.Tests.Claims.Runner;

/// <summary>A setting that trains a FedAvg regime: its profiles must split into the regime's clients, checked when the
/// setting is loaded (naming the file and field), not when a run starts; the repository's federated setting loads and
/// its runs carry the regime's protocol in their keys.</summary>
[TestFixture, Category("Unit")]
public class FederatedSettingTests
{
    [Test]
    public void ATrainingSubsetThatIsNotAMultipleOfTheClientsIsRefusedAtLoad()
    {
        var folder = Repository.TempFolder("federated-setting");
        try
        {
            string Write(int trainSize)
            {
                string path = Path.Combine(folder, $"fed-{trainSize}.json");
                File.WriteAllText(path, $$"""
                    { "name": "fed-{{trainSize}}", "regimes": ["FedAvg"], "profiles": { "smoke": {
                      "data": "circles", "circlesFactor": 0.5, "model": { "kind": "mlp", "inputShape": [2], "classes": 2, "widths": [2, 8, 2] },
                      "trainSize": {{trainSize}}, "testSize": 40, "measureSize": 40, "epochs": 2, "batchSize": 10, "learningRate": 0.01, "robustnessSize": 40, "seeds": 2 } } }
                    """);
                return path;
            }
            Assert.That(SettingLoader.Load(Write(60)).For("smoke").TrainSize, Is.EqualTo(60));
            var bad = Write(50);
            Assert.That(() => SettingLoader.Load(bad), Throws.InstanceOf<SpecException>()
                .With.Message.Contains("fed-50.json").And.Message.Contains("trainSize").And.Message.Contains("50 is not a multiple of 20"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void TheRepositorysFederatedSettingLoadsAndItsRunKeysHoldTheProtocol()
    {
        var setting = SettingLoader.LoadFolder(Repository.Path("claims", "settings"))["mlp-federated"];
        Assert.That(setting.Regimes, Is.EqualTo(new[] { "FedAvg", "FedSAM", "FedASAM", "FedAvg-SWA", "FedSAM-SWA", "FedASAM-SWA" }));
        // FedASAM-SWA is FedASAM's clients (the same optimiser and parameters) with FedAvg-SWA's server average.
        var asamSwa = RegimeRegistry.Get("FedASAM-SWA");
        Assert.That((asamSwa.Optimiser, asamSwa.OptimiserParameters), Is.EqualTo((RegimeRegistry.Get("FedASAM").Optimiser, RegimeRegistry.Get("FedASAM").OptimiserParameters)));
        Assert.That(asamSwa.Federated, Is.EqualTo(RegimeRegistry.Get("FedAvg-SWA").Federated));
        foreach (var profile in setting.Profiles.Keys)
        {
            var run = new RunSpec(setting.Name, profile, setting.For(profile), RegimeRegistry.Get("FedAvg"), 0);
            Assert.That(run.CanonicalJson, Does.Contain("\"federated\":{\"clients\":20"), profile);
            Assert.That(RegimeRegistry.Get("FedAvg").Federated!.Rounds(setting.For(profile).Epochs), Is.GreaterThan(0), profile);
            // Server SWA is keyed only where it is on (FedAvg's key is unchanged by its existence), and it averages at
            // least two global models at every profile's number of rounds.
            Assert.That(run.CanonicalJson, Does.Not.Contain("serverSwa"), profile);
            foreach (var name in new[] { "FedAvg-SWA", "FedSAM-SWA", "FedASAM-SWA" })
            {
                var swa = RegimeRegistry.Get(name).Federated!;
                Assert.That(new RunSpec(setting.Name, profile, setting.For(profile), RegimeRegistry.Get(name), 0).CanonicalJson, Does.Contain("\"serverSwa\":{"), $"{profile} {name}");
                Assert.That(swa.ServerSwa!.AveragedModels(swa.Rounds(setting.For(profile).Epochs)), Is.GreaterThanOrEqualTo(2), $"{profile} {name}");
            }
        }
    }
}
