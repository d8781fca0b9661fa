using NUnit.Framework;
using Reproduce.Training;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Checkpoints;

[TestFixture, Category("Unit")]
public class CheckpointTests
{
    private string folder = "";

    [SetUp] public void Make() { folder = Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}"); Directory.CreateDirectory(folder); }
    [TearDown] public void Clean() => Directory.Delete(folder, recursive: true);

    private static FeatureNetwork TrainedResNet()
    {
        var model = ModelSpec.SmallResNet(side: 12) .Build(2);
        var x = randn(new long[] { 16, 1, 12, 12 }, generator: new Generator(1));
        var y = randint(0, 10, new long[] { 16 }, generator: new Generator(2));
        using var data = new Dataset(x, y, "tiny");
        new Trainer().Train(model, data, new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 0.1 });
        return model;
    }

    [Test]
    public void RoundTripIsBitwiseIncludingBatchNormBuffers()
    {
        using var scope = NewDisposeScope();
        using var model = TrainedResNet();
        var path = Path.Combine(folder, "m.safetensors");
        Checkpoint.Save(path, model, new Dictionary<string, string> { ["regime"] = "Base", ["seed"] = "2" });
        using var loaded = Checkpoint.Load(path);
        Assert.That(loaded.Metadata["regime"], Is.EqualTo("Base"));
        Assert.That(loaded.Model.Spec, Is.EqualTo(model.Spec));
        var a = model.state_dict();
        var b = loaded.Model.state_dict();
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        Assert.That(a.Keys.Any(k => k.EndsWith("running_mean", StringComparison.Ordinal)), Is.True);
        foreach (var k in a.Keys)
            Assert.That(a[k].eq(b[k]).all().item<bool>(), Is.True, k);
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1), "no temporary file may remain");
    }

    [Test]
    public void HeaderIsReadableSafetensors()
    {
        // Independent check of the layout: u64 LE header length, JSON header with dtype/shape/data_offsets.
        using var scope = NewDisposeScope();
        using var model = new Mlp([3, 2], seed: 1);
        var path = Path.Combine(folder, "m.safetensors");
        Checkpoint.Save(path, model);
        var raw = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(raw, 0);
        var header = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(raw, 8, (int)n)).RootElement;
        var w = header.GetProperty("classifier.weight");
        Assert.That(w.GetProperty("dtype").GetString(), Is.EqualTo("F32"));
        Assert.That(w.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new long[] { 2, 3 }));
        var offsets = w.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var first = BitConverter.ToSingle(raw, (int)(8 + n + offsets[0]));
        Assert.That(first, Is.EqualTo(model.Classifier.weight![0, 0].item<float>()));
    }

    [Test]
    public void TruncatedCorruptOrMismatchedCheckpointsGiveClearErrors()
    {
        using var scope = NewDisposeScope();
        using var model = new Mlp([4, 3, 2], seed: 1);
        var path = Path.Combine(folder, "m.safetensors");
        Checkpoint.Save(path, model);
        var raw = File.ReadAllBytes(path);

        var truncated = Path.Combine(folder, "truncated.safetensors");
        File.WriteAllBytes(truncated, raw[..^10]);
        Assert.That(() => Checkpoint.Load(truncated), Throws.TypeOf<InvalidDataException>().With.Message.Contains("truncated.safetensors").And.Message.Contains("outside"));

        var corrupt = Path.Combine(folder, "corrupt.safetensors");
        var bad = (byte[])raw.Clone();
        bad[8] = (byte)'#';
        File.WriteAllBytes(corrupt, bad);
        Assert.That(() => Checkpoint.Load(corrupt), Throws.TypeOf<InvalidDataException>().With.Message.Contains("not a JSON object"));

        var tiny = Path.Combine(folder, "tiny.safetensors");
        File.WriteAllBytes(tiny, new byte[3]);
        Assert.That(() => Checkpoint.Load(tiny), Throws.TypeOf<InvalidDataException>().With.Message.Contains("too short"));

        // Same tensors, but the metadata claims a wider hidden layer.
        var other = Path.Combine(folder, "mismatch.safetensors");
        Safetensors.Write(other, model.state_dict(), new Dictionary<string, string> { [Checkpoint.SpecKey] = ModelSpec.ForMlp([4, 5, 2]).ToJson() });
        Assert.That(() => Checkpoint.Load(other), Throws.TypeOf<InvalidDataException>().With.Message.Contains("features.fc0.weight").And.Message.Contains("spec needs"));
    }
}
