using NUnit.Framework;
using Reproduce.Tests.Support;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Models;

/// <summary>
/// Models are placed once, when built or loaded, and everything else follows them. Weights are drawn (or read) on the
/// CPU and then moved, so a seed or a checkpoint gives the same weights on every device. Checked on every available
/// device, and for placement alone on libtorch's data-free meta device (a second device on every machine).
/// </summary>
[TestFixture, Category("Unit")]
public class ModelPlacementTests
{
    private static readonly ModelSpec Spec = ModelSpec.ForMlp([4, 6, 3]);

    private static bool AllOn(nn.Module module, Device device) =>
        module.parameters().Concat(module.buffers()).All(t => Devices.IsOn(t, device));

    private static void AssertSameWeights(FeatureNetwork expected, FeatureNetwork actual, string what)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        foreach (var (name, t) in a)
            Assert.That(b[name].cpu().eq(t.cpu()).all().item<bool>(), Is.True, $"{what}: '{name}' differs from the CPU weights");
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void BuildDrawsTheSeededWeightsOnTheCpuAndMovesThem(Device device)
    {
        using var scope = NewDisposeScope();
        using var onCpu = Spec.Build(seed: 5);
        using var placed = Spec.Build(seed: 5, device);
        Assert.That(AllOn(placed, device), Is.True, $"parameters on {placed.parameters().First().device}");
        AssertSameWeights(onCpu, placed, $"Build(5, {device})");
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void CheckpointLoadsTheSameWeightsOntoTheRequestedDevice(Device device)
    {
        using var scope = NewDisposeScope();
        var folder = Repository.TempFolder("placement");
        try
        {
            using var model = Spec.Build(seed: 7);
            var path = Path.Combine(folder, "m.safetensors");
            Checkpoint.Save(path, model);
            using var loaded = Checkpoint.Load(path, device);
            Assert.That(AllOn(loaded.Model, device), Is.True, $"parameters on {loaded.Model.parameters().First().device}");
            Assert.That(loaded.Model.training, Is.False, "a loaded model is in evaluation mode");
            AssertSameWeights(model, loaded.Model, $"Load(..., {device})");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void BuildAndLoadPlaceTheModelOnADeviceOtherThanTheCpu()
    {
        using var scope = NewDisposeScope();
        var folder = Repository.TempFolder("placement");
        try
        {
            using var built = Spec.Build(seed: 1, Devices.Meta);
            Assert.That(AllOn(built, Devices.Meta), Is.True, $"Build: parameters on {built.parameters().First().device}");
            using var model = Spec.Build(seed: 1);
            var path = Path.Combine(folder, "m.safetensors");
            Checkpoint.Save(path, model);
            using var loaded = Checkpoint.Load(path, Devices.Meta);
            Assert.That(AllOn(loaded.Model, Devices.Meta), Is.True, $"Load: parameters on {loaded.Model.parameters().First().device}");
            using var unplaced = Checkpoint.Load(path);
            Assert.That(AllOn(unplaced.Model, CPU), Is.True, "without a device, Load keeps the model on the CPU");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
