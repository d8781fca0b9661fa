using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// A trained model as a safetensors file: the full state (parameters and buffers such as BatchNorm statistics)
/// plus metadata: the model spec (JSON, key "model_spec") so the model can be rebuilt, and whatever provenance the
/// caller adds (regime, seed, data subset, code version). Loading rebuilds the model from the spec and checks
/// every name, shape and dtype against it before copying a single value. Saving reads the state from any device
/// (safetensors copies each tensor to the host); loading fills the model on the CPU and then moves it to the device the
/// caller names, so the same file gives the same weights on every device.
/// </summary>
public static class Checkpoint
{
    public const string SpecKey = "model_spec";

    public static void Save(string path, FeatureNetwork model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [SpecKey] = model.Spec.ToJson(), ["format"] = "reproduce-checkpoint/1" };
        var state = model.state_dict();
        Safetensors.Write(path, state, meta);
    }

    public sealed record Loaded(FeatureNetwork Model, IReadOnlyDictionary<string, string> Metadata) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    /// <summary>The model in <paramref name="path"/>, in evaluation mode, on <paramref name="device"/> (the CPU when null).</summary>
    public static Loaded Load(string path, Device? device = null)
    {
        var contents = Safetensors.Read(path);
        try
        {
            if (!contents.Metadata.TryGetValue(SpecKey, out var specJson))
                throw new InvalidDataException($"{path}: metadata has no '{SpecKey}'; cannot rebuild the model.");
            ModelSpec spec;
            try { spec = ModelSpec.FromJson(specJson); }
            catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: metadata '{SpecKey}' is not a valid model spec ({e.Message}).", e); }
            FeatureNetwork model;
            try { model = spec.Build(seed: 0); }
            catch (ArgumentException e) { throw new InvalidDataException($"{path}: metadata '{SpecKey}': {e.Message}", e); }
            var expected = model.state_dict();
            var missing = expected.Keys.Except(contents.Tensors.Keys).ToList();
            var extra = contents.Tensors.Keys.Except(expected.Keys).ToList();
            if (missing.Count > 0 || extra.Count > 0)
            {
                model.Dispose();
                throw new InvalidDataException($"{path}: tensors disagree with the model spec; missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].");
            }
            foreach (var (name, target) in expected)
            {
                var source = contents.Tensors[name];
                if (!source.shape.SequenceEqual(target.shape) || source.dtype != target.dtype)
                {
                    var message = $"{path}: tensor '{name}' is {source.dtype}[{string.Join(", ", source.shape)}] but the spec needs {target.dtype}[{string.Join(", ", target.shape)}].";
                    model.Dispose();
                    throw new InvalidDataException(message);
                }
            }
            using (no_grad())
                foreach (var (name, target) in expected) target.copy_(contents.Tensors[name]);
            if (device is not null && device.type != DeviceType.CPU) model.to(device);
            model.eval();
            return new Loaded(model, contents.Metadata);
        }
        finally
        {
            foreach (var t in contents.Tensors.Values) t.Dispose();
        }
    }
}
