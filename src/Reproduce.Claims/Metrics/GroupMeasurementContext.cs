using Reproduce.Measurement.Safety;
using static TorchSharp.torch;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// What a per-group metric computes from: the test predictions of the seeds of one (setting, regime) that trained
/// without diverging, in seed order, read back from the store (float32 probabilities, renormalised in float64 so each
/// row sums to 1 again), and the seeds they belong to.
/// </summary>
public sealed class GroupMeasurementContext : IDisposable
{
    public GroupMeasurementContext(IReadOnlyList<Predictions> members, IReadOnlyList<int> seeds)
    {
        if (members.Count != seeds.Count) throw new ArgumentException($"{members.Count} members but {seeds.Count} seeds.");
        if (members.Count < 2) throw new ArgumentException("A group metric needs at least two members.");
        Members = members; Seeds = seeds;
    }

    /// <summary>The members' predictions as stored: p = float64(stored p) / row sum.</summary>
    public static GroupMeasurementContext FromStored(IReadOnlyList<(int Seed, (float[] Probabilities, long[] Labels, int Classes) Predictions)> members) =>
        new([.. members.Select(m => new Predictions(
                tensor(m.Predictions.Probabilities, new long[] { m.Predictions.Labels.Length, m.Predictions.Classes }).to(ScalarType.Float64) is var t ? t / t.sum(1, keepdim: true) : null!,
                tensor(m.Predictions.Labels)))],
            [.. members.Select(m => m.Seed)]);

    public IReadOnlyList<Predictions> Members { get; }
    public IReadOnlyList<int> Seeds { get; }

    public void Dispose()
    {
        foreach (var p in Members) p.Dispose();
    }
}
