using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// A CIFAR-style ResNet of BasicBlocks with BatchNorm (He et al. 2016; the variant used for CIFAR in the SAM and
/// flat-minima literature: 3x3 stem, no max-pool). Stage i has Blocks[i] blocks of Channels[i] channels and halves
/// the resolution from the second stage on. ResNet-18: blocks [2, 2, 2, 2], channels [64, 128, 256, 512].
/// The penultimate features are the globally average-pooled last stage.
/// </summary>
public sealed class ResNet : FeatureNetwork
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly TorchSharp.Modules.Linear classifier;

    internal ResNet(ModelSpec spec, long seed) : base("ResNet", spec)
    {
        var shape = spec.InputShape;
        if (shape.Count != 3) throw new ArgumentException("A ResNet needs an image input shape [C, H, W].");
        var blocks = spec.Blocks ?? throw new ArgumentException("A ResNet spec needs blocks per stage.");
        var channels = spec.Channels ?? throw new ArgumentException("A ResNet spec needs channels per stage.");
        if (blocks.Count != channels.Count || blocks.Count == 0) throw new ArgumentException("A ResNet spec needs as many channel widths as stages.");
        using var draws = InitialWeights.Seeded(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("stem", nn.Conv2d(shape[0], channels[0], 3, padding: 1, bias: false)),
            ("stem_bn", nn.BatchNorm2d(channels[0])),
            ("stem_act", nn.ReLU()),
        };
        int inChannels = channels[0];
        for (int stage = 0; stage < blocks.Count; stage++)
            for (int b = 0; b < blocks[stage]; b++)
            {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                layers.Add(($"stage{stage}_block{b}", new BasicBlock($"stage{stage}_block{b}", inChannels, channels[stage], stride)));
                inChannels = channels[stage];
            }
        layers.Add(("pool", nn.AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", nn.Flatten()));
        features = nn.Sequential(layers);
        classifier = nn.Linear(inChannels, spec.Classes);
        RegisterComponents();
    }

    public override TorchSharp.Modules.Linear Classifier => classifier;

    public override Tensor Features(Tensor x) => features.forward(x);

    /// <summary>conv3x3-BN-ReLU-conv3x3-BN plus the identity (or a strided 1x1 conv-BN projection), then ReLU.</summary>
    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> conv1, bn1, conv2, bn2;
        private readonly nn.Module<Tensor, Tensor>? shortcut;

        public BasicBlock(string name, int inChannels, int outChannels, int stride) : base(name)
        {
            conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(outChannels);
            conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(outChannels);
            if (stride != 1 || inChannels != outChannels)
                shortcut = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = nn.functional.relu(bn1.forward(conv1.forward(x)));
            h = bn2.forward(conv2.forward(h));
            var s = shortcut is null ? x : shortcut.forward(x);
            return nn.functional.relu(h + s).MoveToOuterDisposeScope();
        }
    }
}
