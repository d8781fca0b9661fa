using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>
/// Label noise: a seeded fraction of the samples (chosen without replacement) gets a label drawn uniformly from
/// the classes (it may coincide with the true one, as in Zhang et al. 2017).
/// </summary>
public static class RandomLabels
{
    public static Dataset Apply(Dataset data, double fraction, int classes, long seed)
    {
        if (fraction < 0 || fraction > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The noise fraction must lie in [0, 1].");
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        long k = (long)Math.Round(fraction * data.Count);
        var which = randperm(data.Count, generator: g).narrow(0, 0, k);
        var labels = data.Targets.clone();
        labels.index_put_(randint(0, classes, new long[] { k }, dtype: ScalarType.Int64, generator: g), which);
        return new Dataset(data.Inputs.clone().MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), $"{data.Name}[random labels {fraction}]");
    }
}
