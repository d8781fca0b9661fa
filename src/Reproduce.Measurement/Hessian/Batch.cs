using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>One batch of inputs and targets. Owned by its <see cref="IBatchSource"/>; consumers never dispose it.</summary>
public sealed record Batch(Tensor Inputs, Tensor Targets)
{
    public long Count => Inputs.shape[0];
}
