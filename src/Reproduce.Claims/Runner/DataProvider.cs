using Reproduce.Claims.Specs;
using Reproduce.Measurement.Safety;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Claims.Runner;

/// <summary>The training and test subsets of a setting, shaped for its model, plus how its inputs map to pixels.</summary>
public sealed record SettingData(Dataset Train, Dataset Test, ImageFormat? Format)
{
    /// <summary>The pixel format for corruptions and attacks; a clear error for non-image data.</summary>
    public ImageFormat Images => Format ?? throw new ArgumentException($"{Train.Name}: corruption and adversarial metrics need image data.");
}

/// <summary>
/// Loads each data set once per process and cuts the subsets a setting asks for: the first TrainSize (TestSize)
/// samples of a permutation seeded with <see cref="DataSeed"/>, the same for every run, regime and seed (seeds vary
/// initialisation, order and augmentation, not the data). Inputs are shaped as the model spec's input shape.
/// </summary>
public sealed class DataProvider(ReproduceOptions options) : IDisposable
{
    public const long DataSeed = 0;
    private readonly Dictionary<string, (Dataset Train, Dataset Test)> full = [];
    private readonly Dictionary<string, SettingData> subsets = [];
    private readonly object gate = new();

    public SettingData For(SettingProfile block)
    {
        string key = $"{block.Data}|{block.TrainSize}|{block.TestSize}|{string.Join("x", block.Model.InputShape)}|{block.LabelNoise}|{block.CirclesFactor}|{block.CirclesNoise}|{block.Function}";
        lock (gate)
        {
            if (subsets.TryGetValue(key, out var cached)) return cached;
            // Generated data sets: TrainSize + TestSize points drawn with the data seed; the first TrainSize train.
            // Circles: make_circles semantics (the paper: 50 and 50). functions2d: uniform on [-3.5, 3.5]^2.
            if (block.Data is "circles" or "functions2d")
            {
                using var all = block.Data == "circles"
                    ? Circles.Make(block.TrainSize + block.TestSize, block.CirclesFactor!.Value, block.CirclesNoise ?? 0, DataSeed)
                    : Functions2D.Sample(block.Function!, block.TrainSize + block.TestSize, DataSeed);
                string name = block.Data == "circles" ? $"circles(factor {block.CirclesFactor})" : block.Function!;
                var generated = new SettingData(Slice(all, 0, block.TrainSize, $"{name}/train"), Slice(all, block.TrainSize, block.TestSize, $"{name}/test"), null);
                subsets[key] = generated;
                return generated;
            }
            var (train, test) = Load(block.Data);
            if (block.TrainSize > train.Count) throw new ArgumentException($"{block.Data}: trainSize {block.TrainSize} exceeds the {train.Count} training samples.");
            if (block.TestSize > test.Count) throw new ArgumentException($"{block.Data}: testSize {block.TestSize} exceeds the {test.Count} test samples.");
            var trainSubset = Shape(train.Subset(block.TrainSize, DataSeed), block.Model);
            if (block.LabelNoise is > 0)
            {
                var noisy = RandomLabels.Apply(trainSubset, block.LabelNoise.Value, block.Model.Classes, DataSeed);
                trainSubset.Dispose();
                trainSubset = noisy;
            }
            var testSubset = Shape(test.Subset(block.TestSize, DataSeed), block.Model);
            var format = block.Data switch
            {
                "fashion-mnist" => new ImageFormat(1, 28, 28, [FashionMnist.Mean], [FashionMnist.Std], Flattened: !block.Model.IsImage),
                "cifar10" => new ImageFormat(3, 32, 32, Cifar10.Mean, Cifar10.Std, Flattened: !block.Model.IsImage),
                _ => throw new ArgumentException($"Unknown data set '{block.Data}'. Valid: {string.Join(", ", SettingLoader.DataSets)}."),
            };
            var data = new SettingData(trainSubset, testSubset, format);
            subsets[key] = data;
            return data;
        }
    }

    private static Dataset Slice(Dataset all, long start, long count, string name) =>
        new(all.Inputs.narrow(0, start, count).clone(), all.Targets.narrow(0, start, count).clone(), name);

    private (Dataset, Dataset) Load(string name)
    {
        if (full.TryGetValue(name, out var d)) return d;
        d = name switch
        {
            "fashion-mnist" => (FashionMnist.Load(true, options.FashionMnistFolder, flatten: false), FashionMnist.Load(false, options.FashionMnistFolder, flatten: false)),
            "cifar10" => (Cifar10.Load(true, options.Cifar10Folder), Cifar10.Load(false, options.Cifar10Folder)),
            _ => throw new ArgumentException($"Unknown data set '{name}'. Valid: {string.Join(", ", SettingLoader.DataSets)}."),
        };
        full[name] = d;
        return d;
    }

    private static Dataset Shape(Dataset d, ModelSpec model)
    {
        using var scope = NewDisposeScope();
        var shape = new long[] { d.Count }.Concat(model.InputShape.Select(s => (long)s)).ToArray();
        long per = model.InputShape.Aggregate(1L, (a, b) => a * b);
        if (d.Inputs.numel() != d.Count * per)
            throw new ArgumentException($"{d.Name}: samples have {d.Inputs.numel() / d.Count} values, the model expects [{string.Join(", ", model.InputShape)}].");
        var result = new Dataset(d.Inputs.reshape(shape).contiguous().clone(), d.Targets.clone(), d.Name);
        d.Dispose();
        return result;
    }

    public void Dispose()
    {
        foreach (var s in subsets.Values) { s.Train.Dispose(); s.Test.Dispose(); }
        foreach (var (a, b) in full.Values) { a.Dispose(); b.Dispose(); }
    }
}
