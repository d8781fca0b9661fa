using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>Counts the weight layers of a network (Linear, Conv1d/2d/3d, Embedding), the D of the Fisher-Rao norm.</summary>
public static class WeightLayers
{
    public static int Count(nn.Module module) => module.modules().Count(m =>
        m is TorchSharp.Modules.Linear or TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Conv3d or TorchSharp.Modules.Embedding);
}
