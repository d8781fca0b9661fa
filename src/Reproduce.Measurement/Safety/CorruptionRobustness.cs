using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

public sealed record CorruptionAccuracy(string Corruption, int Severity, double Accuracy);

public sealed record CorruptionResult(double MeanAccuracy, double CleanAccuracy, IReadOnlyList<CorruptionAccuracy> Entries)
{
    public IReadOnlyDictionary<string, double> PerCorruption =>
        Entries.GroupBy(e => e.Corruption).ToDictionary(g => g.Key, g => g.Average(e => e.Accuracy));
}

/// <summary>
/// Mean accuracy over a corruption suite x 5 severities (the CIFAR-10-C protocol: unweighted mean over all
/// (corruption, severity) pairs). Each (corruption, severity) draws from its own generator seeded from
/// (seed, corruption index, severity), so results do not depend on the order or subset evaluated.
/// Images are corrupted in host memory (CPU generators) and the corrupted inputs moved to the network's device.
/// </summary>
public sealed class CorruptionRobustness
{
    public IReadOnlyList<Corruption> Suite { get; init; } = Corruptions.Suite;
    public long Seed { get; init; } = 0;

    public CorruptionResult Evaluate(nn.Module<Tensor, Tensor> network, IBatchSource data, ImageFormat format)
    {
        if (data.BatchCount == 0) throw new ArgumentException("Corruption robustness needs data; the source is empty.");
        network.eval();
        using var noGrad = no_grad();
        var entries = new List<CorruptionAccuracy>();
        double clean = Accuracy(network, data, format, x => x);
        for (int c = 0; c < Suite.Count; c++)
            for (int s = 1; s <= Corruption.Severities; s++)
            {
                var generator = new Generator((ulong)(Seed * 1_000_003 + c * 16 + s));
                var corruption = Suite[c];
                int severity = s;
                entries.Add(new CorruptionAccuracy(corruption.Name, s, Accuracy(network, data, format, x => corruption.Corrupt(x, severity, generator))));
            }
        return new CorruptionResult(entries.Average(e => e.Accuracy), clean, entries);
    }

    private static double Accuracy(nn.Module<Tensor, Tensor> network, IBatchSource data, ImageFormat format, Func<Tensor, Tensor> corrupt)
    {
        var device = ParameterPlacement.Of(network).Device;
        long correct = 0;
        for (int b = 0; b < data.BatchCount; b++)
        {
            using var scope = NewDisposeScope();
            var host = data.GetBatch(b, CPU);
            var inputs = format.FromPixels(corrupt(format.ToPixels(host.Inputs))).to(host.Inputs.dtype).OnDevice(device);
            correct += network.forward(inputs).argmax(1).eq(data.GetBatch(b, device).Targets).sum().item<long>();
        }
        return (double)correct / data.SampleCount;
    }
}
