using NUnit.Framework;
using Reproduce.Claims.Runner;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Runner;

[TestFixture, Category("Unit"), NonParallelizable]
public class ConfigurationTests
{
    [Test]
    public void PrecedenceIsJsonThenProfileJsonThenEnvironmentThenCommandLine()
    {
        var root = Repository.TempFolder("config");
        try
        {
            File.WriteAllText(Path.Combine(root, "appsettings.json"), """{ "Profile": "smoke", "Threads": 4, "Workers": 1, "OutputFolder": "a", "Alpha": 0.05 }""");
            File.WriteAllText(Path.Combine(root, "appsettings.smoke.json"), """{ "OutputFolder": "b", "Workers": 2, "Alpha": 0.01 }""");
            Environment.SetEnvironmentVariable("REPRODUCE__Workers", "3");
            var options = ReproduceOptions.Load(root, commandLine: ["--OutputFolder", "c"]);
            Assert.That(options.Profile, Is.EqualTo("smoke"));
            Assert.That(options.Threads, Is.EqualTo(4), "appsettings.json");
            Assert.That(options.Alpha, Is.EqualTo(0.01), "the profile's file beats appsettings.json");
            Assert.That(options.Workers, Is.EqualTo(3), "the environment beats the profile's file");
            Assert.That(options.OutputFolder, Is.EqualTo("c"), "the command line beats everything");
            Assert.That(options.StorePath, Is.EqualTo(Path.Combine(root, "c", "smoke.sqlite")));
            var overridden = ReproduceOptions.Load(root, new Dictionary<string, string?> { ["Profile"] = "default" });
            Assert.That(overridden.Alpha, Is.EqualTo(0.05), "another profile does not read appsettings.smoke.json");
        }
        finally
        {
            Environment.SetEnvironmentVariable("REPRODUCE__Workers", null);
            Directory.Delete(root, recursive: true);
        }
    }
}
