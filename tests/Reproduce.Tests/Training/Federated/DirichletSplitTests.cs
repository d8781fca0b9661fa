using NUnit.Framework;
using Reproduce.Training.Federated;

namespace Reproduce.Tests.Training.Federated;

/// <summary>The Dirichlet sampler's moments and the label-skewed split's invariants (Hsu et al. 2019).</summary>
[TestFixture, Category("Unit")]
public class DirichletSplitTests
{
    /// <summary>
    /// q ~ Dir(alpha p) has q_c ~ Beta(alpha p_c, alpha (1 - p_c)): mean p_c, variance p_c (1 - p_c) / (alpha + 1).
    /// Over N draws the sample mean and variance must lie within 5 standard errors of these, the errors computed from
    /// the Beta's own moments (sd / sqrt N for the mean; sqrt((mu4 - sigma^4) / N) for the variance, mu4 the 4th central
    /// moment from the raw moments E[X^k] = prod_{j &lt; k} (a + j) / (a + b + j)). alpha 0.05 over ten classes (shapes
    /// 0.005) checks the log-space Gamma draws where U^(1/a) would underflow.
    /// </summary>
    [TestCase(0.05, new[] { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 })]
    [TestCase(1.0, new[] { 0.1, 0.2, 0.3, 0.4 })]
    [TestCase(20.0, new[] { 0.5, 0.25, 0.25 })]
    public void DirichletDrawsHaveMeanPAndVariancePOneMinusPOverAlphaPlusOne(double alpha, double[] prior)
    {
        const int draws = 40_000;
        var random = new SplitMix64(17);
        var concentration = prior.Select(p => alpha * p).ToArray();
        var sum = new double[prior.Length];
        var squares = new double[prior.Length];
        for (int d = 0; d < draws; d++)
        {
            var q = DirichletSplit.Dirichlet(concentration, random);
            Assert.That(Math.Abs(q.Sum() - 1), Is.LessThan(1e-12), "a draw lies on the simplex");
            for (int c = 0; c < q.Length; c++) { sum[c] += q[c]; squares[c] += q[c] * q[c]; }
        }
        for (int c = 0; c < prior.Length; c++)
        {
            double a = concentration[c], b = alpha - a, p = prior[c];
            double Raw(int k) { double m = 1; for (int j = 0; j < k; j++) m *= (a + j) / (a + b + j); return m; }
            double variance = p * (1 - p) / (alpha + 1);
            double mu4 = Raw(4) - 4 * p * Raw(3) + 6 * p * p * Raw(2) - 3 * Math.Pow(p, 4);
            double mean = sum[c] / draws, sampleVariance = squares[c] / draws - mean * mean;
            Assert.That(Raw(2) - p * p, Is.EqualTo(variance).Within(1e-12), "the stated variance is the Beta's");
            Assert.That(mean, Is.EqualTo(p).Within(5 * Math.Sqrt(variance / draws)), $"mean of q_{c}");
            Assert.That(sampleVariance, Is.EqualTo(variance).Within(5 * Math.Sqrt((mu4 - variance * variance) / draws)), $"variance of q_{c}");
        }
    }

    /// <summary>A pool of <paramref name="perClass"/> samples of each of ten classes, interleaved.</summary>
    private static long[] Pool(int perClass) => [.. Enumerable.Range(0, 10 * perClass).Select(i => (long)(i % 10))];

    private static void AssertDisjointAndSized(int[][] split, int clients, int size, int pool)
    {
        Assert.That(split, Has.Length.EqualTo(clients));
        Assert.That(split.Select(s => s.Length), Is.All.EqualTo(size));
        var all = split.SelectMany(s => s).ToList();
        Assert.That(all, Is.Unique, "no sample is given to two clients or twice to one");
        Assert.That(all, Is.All.InRange(0, pool - 1));
    }

    [Test]
    public void TheSplitIsDisjointSizedAndFixedBySeed()
    {
        var labels = Pool(100);
        var split = DirichletSplit.Split(labels, 10, clients: 8, clientSize: 100, alpha: 0.5, seed: 3);
        AssertDisjointAndSized(split, 8, 100, labels.Length);
        Assert.That(DirichletSplit.Split(labels, 10, 8, 100, 0.5, seed: 3), Is.EqualTo(split), "the same seed gives the same split");
        Assert.That(DirichletSplit.Split(labels, 10, 8, 100, 0.5, seed: 4), Is.Not.EqualTo(split), "another seed gives another split");
    }

    [Test]
    public void APoolSplitWholeAtSmallAlphaHandsEverySampleOutAsClassesRunOut()
    {
        // Ten clients of 100 from ten classes of 100 at alpha 0.05: most clients want one class, several the same one,
        // so classes run out and later clients take what is left; every sample is still handed out exactly once.
        var labels = Pool(100);
        var split = DirichletSplit.Split(labels, 10, clients: 10, clientSize: 100, alpha: 0.05, seed: 9);
        AssertDisjointAndSized(split, 10, 100, labels.Length);
        Assert.That(split.SelectMany(s => s).Order(), Is.EqualTo(Enumerable.Range(0, labels.Length)));
    }

    /// <summary>The share of a client's samples in its most frequent class, and its total-variation distance from the
    /// pool's uniform class mix, 1/2 sum_c |share_c - 1/10|.</summary>
    private static (double Dominant, double Distance) Mix(int[] client, long[] labels)
    {
        var shares = Enumerable.Range(0, 10).Select(c => client.Count(i => labels[i] == c) / (double)client.Length).ToArray();
        return (shares.Max(), 0.5 * shares.Sum(s => Math.Abs(s - 0.1)));
    }

    [Test]
    public void LargeAlphaIsNearlyIidAndSmallAlphaGivesFewClassesPerClient()
    {
        // 10 clients of 400 from ten classes of 1000 (no class runs out at large alpha). Near IID: each client's class
        // counts are about Binomial(400, 0.1) (sd 6), total variation about 0.06 from the uniform mix; held below 0.15.
        // Small alpha (shapes 0.005): q_k puts nearly all its mass on one class, so most clients hold one class.
        var labels = Pool(1000);
        var iid = DirichletSplit.Split(labels, 10, clients: 10, clientSize: 400, alpha: 1000, seed: 5).Select(c => Mix(c, labels)).ToList();
        Assert.That(iid.Select(m => m.Distance), Is.All.LessThan(0.15), "alpha 1000: every client near the pool's mix");
        var skewed = DirichletSplit.Split(labels, 10, clients: 10, clientSize: 400, alpha: 0.05, seed: 5).Select(c => Mix(c, labels)).ToList();
        Assert.That(skewed.Count(m => m.Dominant >= 0.9), Is.GreaterThanOrEqualTo(8), "alpha 0.05: most clients hold (almost) one class");
        Assert.That(skewed.Select(m => m.Distance).Average(), Is.GreaterThan(0.7));
    }

    [Test]
    public void BadArgumentsAreRefused()
    {
        var labels = Pool(10);
        Assert.That(() => DirichletSplit.Split(labels, 10, 11, 10, 1, 0), Throws.ArgumentException.With.Message.Contains("the pool holds 100"));
        Assert.That(() => DirichletSplit.Split(labels, 9, 2, 10, 1, 0), Throws.ArgumentException.With.Message.Contains("outside 0 .. 8"));
        Assert.That(() => DirichletSplit.Split(labels, 10, 2, 10, 0, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new SplitMix64(1).NextLogGamma(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
