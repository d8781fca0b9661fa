using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// A LeNet-5-style CNN for (C, S, S) images: conv5x5(pad 2) -> act -> maxpool2 -> conv5x5 -> act -> maxpool2 ->
/// flatten -> Linear -> act -> Linear -> act (the penultimate features) -> classifier. Channel and hidden widths
/// come from the spec (LeNet-5: channels [6, 16], hidden [120, 84]). The pools are <see cref="PlaneMaxPool2d"/>:
/// nn.MaxPool2d(2) bit for bit, several times faster on the CPU.
/// </summary>
public sealed class LeNet : FeatureNetwork
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly TorchSharp.Modules.Linear classifier;

    internal LeNet(ModelSpec spec, long seed) : base("LeNet", spec)
    {
        var shape = spec.InputShape;
        if (shape.Count != 3 || shape[1] != shape[2]) throw new ArgumentException("LeNet needs a square image input shape [C, S, S].");
        var channels = spec.Channels is { Count: 2 } c ? c : throw new ArgumentException("LeNet needs two channel widths.");
        var hidden = spec.Widths is { Count: 2 } h ? h : throw new ArgumentException("LeNet needs two hidden widths (spec.widths).");
        long side = (shape[1] / 2 - 4) / 2;
        if (side < 1) throw new ArgumentException($"LeNet needs images of side >= 12, not {shape[1]}.");
        using var draws = InitialWeights.Seeded(seed);
        features = nn.Sequential(
            ("conv0", nn.Conv2d(shape[0], channels[0], 5, padding: 2)), ("act0", Activations.Create(spec.Activation)), ("pool0", new PlaneMaxPool2d(2)),
            ("conv1", nn.Conv2d(channels[0], channels[1], 5)), ("act1", Activations.Create(spec.Activation)), ("pool1", new PlaneMaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc0", nn.Linear(channels[1] * side * side, hidden[0])), ("act2", Activations.Create(spec.Activation)),
            ("fc1", nn.Linear(hidden[0], hidden[1])), ("act3", Activations.Create(spec.Activation)));
        classifier = nn.Linear(hidden[1], spec.Classes);
        RegisterComponents();
    }

    public override TorchSharp.Modules.Linear Classifier => classifier;

    public override Tensor Features(Tensor x) => features.forward(x);
}
