using Reproduce.Measurement.Hessian;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>
/// Copies of tensors' values, so a measure can perturb the tensors in place and put them back bit for bit (by
/// copying, not by subtracting the perturbation, which would leave rounding behind). Disposing restores the values,
/// then frees the copies, so no exit path leaves a model perturbed.
/// </summary>
internal sealed class ParameterSnapshot : IDisposable
{
    private readonly IReadOnlyList<Tensor> tensors;
    private readonly List<Tensor> saved;

    public ParameterSnapshot(IReadOnlyList<Tensor> tensors)
    {
        this.tensors = tensors;
        saved = tensors.Select(t => t.detach().clone().DetachFromDisposeScope()).ToList();
    }

    public void Restore()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < tensors.Count; i++) tensors[i].copy_(saved[i]);
    }

    /// <summary>Sets the tensors to their saved values plus <paramref name="delta"/>, one vector over all of them.</summary>
    public void SetOffset(Tensor delta)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pieces = ParameterVector.Unflatten(delta, tensors);
        for (int i = 0; i < tensors.Count; i++) tensors[i].copy_(saved[i] + pieces[i]);
    }

    public void Dispose()
    {
        Restore();
        foreach (var s in saved) s.Dispose();
    }
}
