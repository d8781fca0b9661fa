using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// An independent copy of a network: built from its spec, then every parameter and buffer copied in (so the copy is
/// bit for bit the model, in its dtype and on its device, in its training mode). Building a model seeds the global
/// generator; its state is put back, so nothing drawn after the copy (in the same run) differs from what it would have
/// been without it; all of this under the generator's gate (InitialWeights). Shared by the Dinh rescaling (which then
/// scales the copy) and the incremental sessions (which train
/// the copy and leave the base model as it was).
/// </summary>
public static class ModelCopy
{
    public static FeatureNetwork Of(FeatureNetwork model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var source = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var reference = source.Values.First();
        FeatureNetwork copy;
        // Read, seed, draw and put back under one hold of the gate: another thread's build between them would draw
        // from this copy's seed, or have its own sequence reset by the put-back.
        using (InitialWeights.Hold())
        {
            var state = get_rng_state();
            try { copy = model.Spec.Build(0); }
            finally { set_rng_state(state); state.Dispose(); }
        }
        copy.to(reference.dtype);
        if (reference.device.type != DeviceType.CPU) copy.to(reference.device);
        using (no_grad())
        {
            foreach (var (name, p) in copy.named_parameters()) p.copy_(source[name]);
            foreach (var (name, b) in copy.named_buffers()) b.copy_(model.named_buffers().First(s => s.name == name).buffer);
        }
        copy.train(model.training);
        return copy;
    }
}
