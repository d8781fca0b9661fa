using NUnit.Framework;
using Reproduce.Training;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Training.Optimisers;
using Reproduce.Training.Regimes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Optimisers;

/// <summary>ASAM, GAM, Frob-SAM, Trace-SAM and Det-SAM: one step each against numbers derived by hand (float64, plain SGD, no momentum),
/// each also shown to differ from the nearest wrong rule, so the check is not vacuous.</summary>
[TestFixture, Category("Unit")]
public class PerturbedGradientOptimiserTests
{
    private static void AssertWeights(Parameter w, double[] expected, string what)
    {
        var actual = w.detach().data<double>().ToArray();
        Assert.That(actual, Is.EqualTo(expected).Within(1e-12), $"{what}: [{string.Join(", ", actual)}] vs [{string.Join(", ", expected)}]");
    }

    [Test]
    public void OneAsamStepEqualsTheHandComputedStep()
    {
        // L(w) = 1/2 (a1 w1^2 + a2 w2^2), a = (1, 3), at w = (1, -2); rho 0.5, eta 0.01, SGD lr 0.1.
        //   g = (a1 w1, a2 w2) = (1, -6);  T = |w| + eta = (1.01, 2.01);  T g = (1.01, -12.06), ||T g|| = 12.10221880483079
        //   e = rho T^2 g / ||T g|| = 0.5 (1.0201, -24.2406) / 12.10221880483079 = (0.042145164306268, -1.0014940396848544)
        //     (||T^-1 e|| = 0.5 = rho exactly)
        //   w + e = (1.042145164306268, -3.0014940396848546);  g' = a (w + e) = (1.042145164306268, -9.004482119054565)
        //   w' = w - 0.1 g' = (0.8957854835693732, -1.0995517880945433)
        using var scope = NewDisposeScope();
        var a = tensor(new double[] { 1, 3 });
        var w = new Parameter(tensor(new double[] { 1, -2 }), true);
        using var asam = new Asam([w], optim.SGD([w], 0.1), rho: 0.5, eta: 0.01);
        Tensor Loss() => 0.5 * (a * w * w).sum();
        asam.Step(Loss(), Loss);
        AssertWeights(w, [0.8957854835693732, -1.0995517880945433], "ASAM step");
        // SAM's step (T = I) from the same point lands elsewhere: e = 0.5 (1, -6) / sqrt(37).
        double s = 0.5 / Math.Sqrt(37);
        Assert.That(Math.Abs(w.detach()[0].item<double>() - (1 - 0.1 * (1 + s))), Is.GreaterThan(1e-3));
    }

    [Test]
    public void OneGamStepEqualsTheHandComputedStepWithTheHessianAtTheAdversarialPoint()
    {
        // L(w) = 1/4 (a1 w1^4 + a2 w2^4), a = (2, 4): g = a w^3, H = diag(3 a w^2) varies with w, so H(wadv) != H(w).
        // At w = (1, -0.5), rho 0.1, alpha 0.5, SGD lr 0.1:
        //   g = (2, -0.5), ||g|| = 2.0615528128088303;  H(w) = diag(6, 3)
        //   f = H g / ||g|| = (5.820855000871991, -0.7276068751089989), ||f|| = 5.866154166562822
        //   wadv = w + rho f / ||f|| = (1.0992277876713668, -0.5124034734589209)
        //   gadv = a wadv^3 = (2.656397673231575, -0.5381411302065836);  H(wadv) = diag(7.249810375133324, 3.150687835353205)
        //   h = rho H(wadv) gadv / ||gadv|| = (0.7105472482512456, -0.06255683760683751)
        //   w' = w - lr (g + alpha h) = (0.7644726375874378, -0.44687215811965814)
        // (with H(w) instead of H(wadv): w' = (0.77059727586717, -0.4470217533023313).)
        using var scope = NewDisposeScope();
        var a = tensor(new double[] { 2, 4 });
        var w = new Parameter(tensor(new double[] { 1, -0.5 }), true);
        using var gam = new Gam([w], optim.SGD([w], 0.1), rho: 0.1, alpha: 0.5);
        Tensor Loss() => 0.25 * (a * w.pow(4)).sum();
        gam.Step(Loss(), Loss);
        AssertWeights(w, [0.7644726375874378, -0.44687215811965814], "GAM step");
        Assert.That(w.grad, Is.Not.Null, "the base optimiser's gradient is the built one");
    }

    [Test]
    public void GamsNormGradientIsTheClosedFormOnAQuadratic()
    {
        // On L = 1/2 w^T A w (A symmetric, not diagonal): grad ||grad L|| = A (A w) / ||A w||, and with alpha = 1 the step is
        // w' = w - lr (A w + rho A (A wadv) / ||A wadv||), wadv = w + rho A^2 w / ||A^2 w||: closed form in float64.
        using var scope = NewDisposeScope();
        var aMatrix = tensor(new double[] { 3, 1, 0.5, 1, 2, -0.3, 0.5, -0.3, 1 }, new long[] { 3, 3 });
        var w0 = tensor(new double[] { 0.4, -1.2, 0.7 });
        double lr = 0.05, rho = 0.2;
        var w = new Parameter(w0.clone(), true);
        using var gam = new Gam([w], optim.SGD([w], lr), rho, alpha: 1);
        Tensor Loss() => 0.5 * w.dot(aMatrix.mv(w));
        gam.Step(Loss(), Loss);
        var f = aMatrix.mv(aMatrix.mv(w0));
        var wadv = w0 + rho * f / f.norm();
        var gadv = aMatrix.mv(wadv);
        var expected = w0 - lr * (aMatrix.mv(w0) + rho * aMatrix.mv(gadv) / gadv.norm());
        AssertWeights(w, expected.data<double>().ToArray(), "GAM on a quadratic");
    }

    /// <summary>Frob-SAM with chosen perturbation directions instead of Gaussian draws, for the hand computation.</summary>
    private sealed class FixedDirectionsFrobeniusSam(Parameter w, optim.Optimizer sgd, double rho, double lambda, double[][] directions)
        : FrobeniusSam([w], sgd, rho, lambda, directions.Length, seed: 0)
    {
        private int next;
        protected override IReadOnlyList<Tensor> Draw() => [tensor(directions[next++])];
    }

    [Test]
    public void OneFrobeniusSamStepEqualsTheHandComputedStep()
    {
        // L(w) = 1/2 (w1^2 + 3 w2^2) at w = (1, -2); rho 0.1, lambda 0.02, n = 2 with d1 = (1, 0), d2 = (0, 1), SGD lr 0.1.
        //   g0 = (1, -6);  L1 = L(1.1, -2) = 6.605, G1 = (1.1, -6);  L2 = L(1, -1.9) = 5.915, G2 = (1, -5.7)
        //   n = 2: (1/(n-1)) [L1 G1 + L2 G2 - Lbar (G1 + G2)] = (L1 - L2)(G1 - G2) / 2 = 0.345 (0.1, -0.3)
        //   d = g0 + (lambda / rho^2) 0.345 (0.1, -0.3) = (1, -6) + 2 (0.0345, -0.1035) = (1.069, -6.207)
        //   w' = w - 0.1 d = (0.8931, -1.3793)
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new double[] { 1, -2 }), true);
        var a = tensor(new double[] { 1, 3 });
        using var frob = new FixedDirectionsFrobeniusSam(w, optim.SGD([w], 0.1), 0.1, 0.02, [[1, 0], [0, 1]]);
        Tensor Loss() => 0.5 * (a * w * w).sum();
        frob.Step(Loss(), Loss);
        AssertWeights(w, [0.8931, -1.3793], "Frob-SAM step");
    }

    [Test]
    public void FrobeniusSamDrawsFromItsSeedAndRestoresTheWeightsExactly()
    {
        // Same seed: the same Gaussian draws, so the same step bit for bit; another seed: another step. With lambda 0 the
        // step is exactly SGD's at w, which shows the perturbations are undone exactly before the base step.
        double[] Step(long seed, double lambda)
        {
            using var scope = NewDisposeScope();
            var w = new Parameter(tensor(new double[] { 0.3, -0.8, 1.1 }), true);
            using var frob = new FrobeniusSam([w], optim.SGD([w], 0.1), 0.05, lambda, 3, seed);
            Tensor Loss() => (w.pow(4)).sum() + w.prod();
            frob.Step(Loss(), Loss);
            return w.detach().data<double>().ToArray();
        }
        Assert.That(Step(7, 0.1), Is.EqualTo(Step(7, 0.1)));
        Assert.That(Step(7, 0.1), Is.Not.EqualTo(Step(8, 0.1)));
        double[] w0 = [0.3, -0.8, 1.1];
        double[] sgd = [.. w0.Select((x, i) => x - 0.1 * (4 * Math.Pow(x, 3) + w0.Where((_, j) => j != i).Aggregate(1.0, (p, y) => p * y)))];
        Assert.That(Step(7, 0), Is.EqualTo(sgd).Within(1e-15));
    }

    /// <summary>A universal-class member with chosen perturbation directions instead of draws from mu, for the hand computation.</summary>
    private sealed class FixedDirectionsUniversalSam(Parameter w, optim.Optimizer sgd, UniversalSamMember member, double rho, double lambda, double[][] directions)
        : UniversalSam([w], sgd, member, rho, lambda, directions.Length, seed: 0)
    {
        private int next;
        protected override IReadOnlyList<Tensor> Draw() => [tensor(directions[next++])];
    }

    [Test]
    public void OneTraceSamStepEqualsTheHandComputedStep()
    {
        // L(w) = 1/2 (w1^2 + 3 w2^2) at w = (1, -2); rho 0.1, lambda 0.5, n = 2 with d1 = (1, 0), d2 = (0, 1), SGD lr 0.1.
        // Trace: psi' = phi' = 1, so d = g0 + lambda (1/n) sum_k (G_k - g0); on a quadratic G_k - g0 = rho A d_k.
        //   g0 = (1, -6);  G1 - g0 = (0.1, 0);  G2 - g0 = (0, 0.3);  (1/2) sum = (0.05, 0.15)
        //   d = (1, -6) + 0.5 (0.05, 0.15) = (1.025, -5.925);  w' = w - 0.1 d = (0.8975, -1.4075)
        // (without the 1/n: (0.895, -1.415).)
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new double[] { 1, -2 }), true);
        var a = tensor(new double[] { 1, 3 });
        using var trace = new FixedDirectionsUniversalSam(w, optim.SGD([w], 0.1), UniversalSamMember.Trace, 0.1, 0.5, [[1, 0], [0, 1]]);
        Tensor Loss() => 0.5 * (a * w * w).sum();
        trace.Step(Loss(), Loss);
        AssertWeights(w, [0.8975, -1.4075], "Trace-SAM step");
    }

    [Test]
    public void OneDetSamStepEqualsTheHandComputedStep()
    {
        // The same quadratic at w = (1, -2); rho 1, lambda 1, n = 1 with d = (0.1, -0.2) (a draw from a cube with c >= 0.2).
        //   L(w) = 6.5;  L(w + d) = L(1.1, -2.2) = 7.865;  x = (7.865 - 6.5) / rho^2 = 1.365
        //   psi(x) = exp(-x/2) = xbar;  psi'(x) = -exp(-x/2) / 2;  phi'(xbar) = -2 / xbar^3 = -2 exp(3x/2)
        //   lambda phi'(xbar) psi'(x) = exp(x) = 3.9157230519927224
        //   G - g0 = A d = (0.1, -0.6);  d = (1, -6) + exp(x) (0.1, -0.6);  w' = w - 0.1 d = (0.8608427694800728, -1.1650566168804368)
        // (phi' with the opposite sign would step to (0.9391572305199272, -1.6349433831195632).)
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new double[] { 1, -2 }), true);
        var a = tensor(new double[] { 1, 3 });
        using var det = new FixedDirectionsUniversalSam(w, optim.SGD([w], 0.1), UniversalSamMember.Determinant(0.2), 1, 1, [[0.1, -0.2]]);
        Tensor Loss() => 0.5 * (a * w * w).sum();
        det.Step(Loss(), Loss);
        AssertWeights(w, [0.8608427694800728, -1.1650566168804368], "Det-SAM step");
    }

    [Test]
    public void TraceSamsMeanStepIsTheGradientOfHalfRhoSquaredTheHessiansTrace()
    {
        // Trace-SAM's explicit bias, by its closed form: on L(w) = 1/4 sum_i a_i w_i^4 with d ~ N(0, I),
        // E[grad L(w + rho d)] - grad L(w) = a (3 w rho^2) exactly (the odd moments of d vanish) = (rho^2 / 2) grad tr H(w),
        // tr H = 3 sum_i a_i w_i^2. With lambda 1 and SGD lr 1 (no momentum), w - w' = g0 + mean_k (G_k - g0) over n draws;
        // at a = (2, 4), w = (1, -0.5), rho 0.1 the bias is (0.06, -0.06), and one draw's spread, 3 a w^2 rho d to leading
        // order, has standard deviations (0.6, 0.3), so over 10,000 draws the standard errors are (0.006, 0.003): the test
        // holds the mean within 4 of them, and the bias is 10 and 20 of them away from zero (a rule without it fails).
        const int draws = 10_000;
        double rho = 0.1;
        double[] a0 = [2, 4], w0 = [1, -0.5];
        using var scope = NewDisposeScope();
        var a = tensor(a0);
        var w = new Parameter(tensor(w0), true);
        using var trace = new UniversalSam([w], optim.SGD([w], 1), UniversalSamMember.Trace, rho, 1, draws, seed: 11);
        Tensor Loss() => 0.25 * (a * w.pow(4)).sum();
        trace.Step(Loss(), Loss);
        var after = w.detach().data<double>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            double g0 = a0[i] * Math.Pow(w0[i], 3), bias = (w0[i] - after[i]) - g0, exact = 3 * a0[i] * w0[i] * rho * rho;
            double standardError = 3 * a0[i] * w0[i] * w0[i] * rho / Math.Sqrt(draws);
            Assert.That(bias, Is.EqualTo(exact).Within(4 * standardError), $"coordinate {i}: mean step bias {bias} vs (rho^2/2) d tr H / dw = {exact} (s.e. {standardError})");
            Assert.That(Math.Abs(exact), Is.GreaterThan(4 * standardError), "the bias must be distinguishable from zero at this many draws");
        }
    }

    [Test]
    public void UniversalSamDrawsFromItsSeedAndRestoresTheWeightsExactly()
    {
        // Same seed: the same draws, so the same step bit for bit; another seed: another step. With lambda 0 the step is
        // exactly SGD's at w, which shows the perturbations are undone exactly before the base step.
        double[] Step(UniversalSamMember member, long seed, double lambda)
        {
            using var scope = NewDisposeScope();
            var w = new Parameter(tensor(new double[] { 0.3, -0.8, 1.1 }), true);
            using var sam = new UniversalSam([w], optim.SGD([w], 0.1), member, 0.05, lambda, 2, seed);
            Tensor Loss() => (w.pow(4)).sum() + w.prod();
            sam.Step(Loss(), Loss);
            return w.detach().data<double>().ToArray();
        }
        double[] w0 = [0.3, -0.8, 1.1];
        double[] sgd = [.. w0.Select((x, i) => x - 0.1 * (4 * Math.Pow(x, 3) + w0.Where((_, j) => j != i).Aggregate(1.0, (p, y) => p * y)))];
        foreach (var member in new[] { UniversalSamMember.Trace, UniversalSamMember.Determinant(0.01) })
        {
            Assert.That(Step(member, 7, 0.1), Is.EqualTo(Step(member, 7, 0.1)), member.Name);
            Assert.That(Step(member, 7, 0.1), Is.Not.EqualTo(Step(member, 8, 0.1)), member.Name);
            Assert.That(Step(member, 7, 0), Is.EqualTo(sgd).Within(1e-15), member.Name);
        }
    }

    [TestCase("ASAM")]
    [TestCase("GAM")]
    [TestCase("Frob-SAM")]
    [TestCase("Trace-SAM")]
    [TestCase("Det-SAM")]
    public void TheRegimeTrainsThroughTheTrainerDeterministically(string regime)
    {
        // Through the registry and the trainer: two runs from one seed give bit-identical weights, and they differ from
        // plain SGD's (the regime's optimiser is in use).
        double[] Train(string name)
        {
            using var scope = NewDisposeScope();
            using var data = Circles.Make(40, 0.5, 0.05, seed: 1);
            using var model = new Mlp(new[] { 2, 8, 2 }, seed: 4);
            var options = new TrainerOptions { Epochs = 2, BatchSize = 10, LearningRate = 0.1, Momentum = 0.9, Seed = 3 }.With(RegimeRegistry.Get(name));
            new Trainer().Train(model, data, options);
            return [.. model.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray().Select(v => (double)v))];
        }
        var first = Train(regime);
        Assert.That(Train(regime), Is.EqualTo(first));
        Assert.That(first, Is.Not.EqualTo(Train("Base")));
    }

    [Test]
    public void BadHyperParametersAreRefused()
    {
        var w = new Parameter(zeros(2, dtype: ScalarType.Float64), true);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Asam([w], optim.SGD([w], 0.1), 0, 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Asam([w], optim.SGD([w], 0.1), 0.5, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Gam([w], optim.SGD([w], 0.1), double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrobeniusSam([w], optim.SGD([w], 0.1), 0.01, 0.005, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UniversalSam([w], optim.SGD([w], 0.1), UniversalSamMember.Trace, 0.01, 1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UniversalSam([w], optim.SGD([w], 0.1), UniversalSamMember.Trace, double.PositiveInfinity, 1, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => UniversalSamMember.Determinant(0));
        Assert.Throws<ArgumentNullException>(() => new Asam([w], optim.SGD([w], 0.1), 0.5, 0.01).step());
    }
}
