using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Training.Federated;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Federated;

/// <summary>FedAvg's server step w = sum n_k w_k / sum n_k: by hand, and as properties (identity on identical models,
/// a convex combination with weights n_k / N on arbitrary ones).</summary>
[TestFixture, Category("Unit")]
public class FederatedAveragingTests
{
    [Test]
    public void TwoClientsOf100And300SamplesHoldingOneAndFiveGiveFour()
    {
        // (100 x 1 + 300 x 5) / 400 = 4; per position, (100 x 2 + 300 x 6) / 400 = 5 and (100 x -1 + 300 x 3) / 400 = 2.
        using var scope = NewDisposeScope();
        var average = FederatedAveraging.Average([
            (100, [tensor(1f), tensor(new float[] { 2, -1 })]),
            (300, [tensor(5f), tensor(new float[] { 6, 3 })]),
        ]);
        Assert.That(average[0].item<float>(), Is.EqualTo(4f));
        Assert.That(average[1].data<float>().ToArray(), Is.EqualTo(new float[] { 5, 2 }));
        Assert.That(average[0].dtype, Is.EqualTo(ScalarType.Float32), "each tensor keeps its own type");
        // The unweighted mean (3) and the other client's weighting (2) are wrong answers the test tells apart.
        Assert.That(average[0].item<float>(), Is.Not.EqualTo(3f).And.Not.EqualTo(2f));
    }

    [Test]
    public void BadInputIsRefused()
    {
        using var scope = NewDisposeScope();
        Assert.That(() => FederatedAveraging.Average([]), Throws.ArgumentException.With.Message.Contains("at least one client"));
        Assert.That(() => FederatedAveraging.Average([(0, [tensor(1f)])]), Throws.ArgumentException.With.Message.Contains("positive"));
        Assert.That(() => FederatedAveraging.Average([(1, [tensor(1f)]), (1, [tensor(new float[] { 1, 2 })])]), Throws.ArgumentException.With.Message.Contains("shape"));
        Assert.That(() => FederatedAveraging.Average([(1, [tensor(1f)]), (1, [tensor(1f), tensor(2f)])]), Throws.ArgumentException.With.Message.Contains("same tensors"));
    }

    /// <summary>2 to 6 clients with sample counts 1 .. 1000 and a 5-vector of weights each in [-100, 100].</summary>
    private static Arbitrary<(int[] Samples, float[][] Weights)> Clients() =>
        Gen.Choose(2, 6).SelectMany(k =>
            Gen.Choose(1, 1000).ArrayOf(k).SelectMany(samples =>
                Gen.Choose(-100_000, 100_000).Select(v => v / 1000f).ArrayOf(5).ArrayOf(k).Select(weights => (samples, weights))))
        .ToArbitrary();

    [FsCheck.NUnit.Property(MaxTest = 100)]
    public Property IdenticalModelsAverageToThemselvesBitForBit() => Prop.ForAll(Clients(), c =>
    {
        using var scope = NewDisposeScope();
        var w = c.Weights[0];
        var average = FederatedAveraging.Average([.. c.Samples.Select(n => ((long)n, (IReadOnlyList<Tensor>)[tensor(w)]))])[0].data<float>().ToArray();
        return average.SequenceEqual(w).Label($"n = [{string.Join(", ", c.Samples)}]: [{string.Join(", ", average)}] vs [{string.Join(", ", w)}]");
    });

    [FsCheck.NUnit.Property(MaxTest = 100)]
    public Property ArbitraryModelsAverageToTheConvexCombinationWithWeightsNkOverN() => Prop.ForAll(Clients(), c =>
    {
        using var scope = NewDisposeScope();
        double total = c.Samples.Sum(n => (double)n);
        var average = FederatedAveraging.Average([.. c.Samples.Select((n, k) => ((long)n, (IReadOnlyList<Tensor>)[tensor(c.Weights[k])]))])[0].data<float>().ToArray();
        bool ok = true;
        for (int i = 0; i < 5; i++)
        {
            // The stated weights, summed by hand in float64 and rounded once to float32, as the routine promises.
            double expected = 0;
            for (int k = 0; k < c.Samples.Length; k++) expected += c.Samples[k] / total * c.Weights[k][i];
            float lo = c.Weights.Min(w => w[i]), hi = c.Weights.Max(w => w[i]);
            ok &= Math.Abs(average[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)) && average[i] >= lo && average[i] <= hi;
        }
        return ok.Label($"n = [{string.Join(", ", c.Samples)}]: [{string.Join(", ", average)}]");
    });
}
