using NUnit.Framework;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;
using Reproduce.Training.Regimes;

namespace Reproduce.Tests.Claims.Runner;

/// <summary>
/// A setting's optimiser parameters ("optimiserParameters") travel in the setting profile, so they are part of the
/// run key, but only when there are some: every stored run and baseline is keyed by the SHA-256 of the canonical JSON
/// and must keep its key.
/// </summary>
[TestFixture, Category("Unit")]
public class OptimiserParameterTests
{
    private static string Key(SettingSpec setting, string profile, string regime = "Base", int seed = 0) =>
        new RunSpec(setting.Name, profile, setting.For(profile), RegimeRegistry.Get(regime), seed).Key;

    [Test]
    public void RunKeysOfSettingsWithoutOptimiserParametersAreUnchanged()
    {
        // Keys of the recorded default store (results of commit d08f35f), for an Adam setting and an SGD one.
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        Assert.That(Key(settings["fn-sphere"], "default"), Is.EqualTo("5331ffdf02b43140b72c"));
        Assert.That(Key(settings["cnn"], "default"), Is.EqualTo("fb1d7617d7959e231720"));
        Assert.That(Key(settings["cnn"], "default", "WD"), Is.EqualTo("e502e79ecf7a93bc4e76"));
        foreach (var s in settings.Values)
            foreach (var profile in s.Profiles.Keys)
                Assert.That(new RunSpec(s.Name, profile, s.For(profile), RegimeRegistry.Get("Base"), 0).CanonicalJson, Does.Not.Contain("optimiserParameters"));
    }

    [Test]
    public void OptimiserParametersEnterTheRunKeySortedByNameAndOnlyWhenThereAreSome()
    {
        var folder = Repository.TempFolder("optimiser-parameters");
        try
        {
            SettingSpec Setting(string name, string parameters)
            {
                string path = Path.Combine(folder, $"{name}.json");
                File.WriteAllText(path, $$"""
                    { "name": "{{name}}", "regimes": ["Base"], "profiles": { "smoke": {
                      "data": "circles", "circlesFactor": 0.5, "model": { "kind": "mlp", "inputShape": [2], "classes": 2, "widths": [2, 8, 2] },
                      "trainSize": 40, "testSize": 40, "measureSize": 40, "epochs": 2, "batchSize": 10, "learningRate": 0.01, "robustnessSize": 40,
                      "optimiser": "adam"{{parameters}}, "seeds": 2 } } }
                    """);
                return SettingLoader.Load(path);
            }
            var none = Setting("a", "");
            var empty = Setting("a", ", \"optimiserParameters\": {}");
            var set = Setting("a", ", \"optimiserParameters\": { \"epsilon\": 1e-6, \"beta2\": 0.98 }");
            var reordered = Setting("a", ", \"optimiserParameters\": { \"beta2\": 0.98, \"epsilon\": 1e-6 }");
            Assert.That(none.For("smoke").OptimiserParameters, Is.Null);
            Assert.That(empty.For("smoke").OptimiserParameters, Is.Null, "an empty object is no parameters");
            Assert.That(Key(empty, "smoke"), Is.EqualTo(Key(none, "smoke")));
            Assert.That(set.For("smoke").OptimiserParameters!.Keys, Is.EqualTo(new[] { "beta2", "epsilon" }));
            Assert.That(new RunSpec("a", "smoke", set.For("smoke"), RegimeRegistry.Get("Base"), 0).CanonicalJson, Does.Contain("\"optimiserParameters\":{\"beta2\":0.98,\"epsilon\":"));
            Assert.That(Key(set, "smoke"), Is.Not.EqualTo(Key(none, "smoke")));
            Assert.That(Key(reordered, "smoke"), Is.EqualTo(Key(set, "smoke")), "the file's order does not enter the key");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
