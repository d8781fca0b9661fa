using System.Text.Json;
using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.BadInput;

/// <summary>
/// The bad-input corpus (BadInput/Corpus): malformed claim, setting, baseline, configuration and checkpoint files
/// (the binary ones written by Corpus/checkpoints/make_corpus.py), each with the
/// exact error it must produce (Corpus/expected.json). The error must name the file and contain the expected text
/// (JSON path and message), and must be a .NET exception, not a crash.
/// </summary>
[TestFixture, Category("BadInput")]
public class InputCorpusTests
{
    private static readonly string Corpus = Repository.Path("tests", "Reproduce.Tests", "BadInput", "Corpus");

    private static IEnumerable<TestCaseData> Cases()
    {
        var expected = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(System.IO.Path.Combine(Corpus, "expected.json")))!;
        foreach (var (file, message) in expected.OrderBy(p => p.Key, StringComparer.Ordinal))
            yield return new TestCaseData(file, message).SetName($"BadInput {file}");
    }

    [Test]
    public void TheCorpusHoldsAtLeastTwentyFilesAndEachIsListed()
    {
        var listed = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(System.IO.Path.Combine(Corpus, "expected.json")))!;
        var files = Directory.GetFiles(Corpus, "*.json", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Corpus, "*.safetensors", SearchOption.AllDirectories))
            .Select(f => System.IO.Path.GetRelativePath(Corpus, f)).Where(f => f != "expected.json").ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(20));
        Assert.That(listed.Keys, Is.EquivalentTo(files));
    }

    [TestCaseSource(nameof(Cases))]
    public void GivesItsExactError(string file, string message)
    {
        string path = System.IO.Path.Combine(Corpus, file);
        Exception? error = null;
        try { Load(file, path); }
        catch (Exception e) { error = e; }
        Assert.That(error, Is.Not.Null, $"{file} was accepted");
        Assert.That(error, Is.InstanceOf<SpecException>().Or.InstanceOf<ArgumentException>().Or.InstanceOf<InvalidDataException>());
        Assert.That(error!.Message, Does.Contain(message));
        if (error is SpecException or InvalidDataException) Assert.That(error.Message, Does.Contain(path), "the error names the file");
    }

    private static void Load(string file, string path)
    {
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        switch (file.Split('/')[0])
        {
            case "claims": ClaimLoader.Load(path, settings); break;
            case "settings": SettingLoader.Load(path); break;
            case "baselines": BaselineStore.ReadFile(path); break;
            case "config": ReproduceOptions.Load(System.IO.Path.GetDirectoryName(path)!); break;
            case "checkpoints": Reproduce.Training.Checkpoints.Checkpoint.Load(path).Dispose(); break;
            default: throw new InvalidOperationException($"unknown corpus folder in {file}");
        }
    }

    [Test]
    public void TheRepositorysOwnClaimsAndSettingsAreValid()
    {
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        var claims = ClaimLoader.LoadFolder(Repository.Path("claims"), settings);
        Assert.That(claims.Select(c => c.Source.ProtocolClaim).OfType<int>().Distinct(), Is.SupersetOf(Enumerable.Range(1, 9)), "claims 1 to 9 of protocol.md are encoded");
        foreach (var profile in ReproduceOptions.Profiles)
            foreach (var s in settings.Values) Assert.That(s.Profiles.ContainsKey(profile), Is.True, $"{s.Name} has a {profile} setting profile");
        // The verdict maps: every cell of every sweep at every profile it runs at gives a valid setting (checked on load).
        var sweeps = SweepLoader.LoadFolder(Repository.Path("claims", "sweeps"), claims, settings);
        Assert.That(sweeps.Where(s => s.RunsAt("default")), Is.Not.Empty, "the default profile carries a verdict map");
    }
}
