using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Reproduce.Training.Data;
using Reproduce.Training.Incremental;
using Reproduce.Training.Models;
using Reproduce.Training.Regimes;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Training.Incremental;

/// <summary>F2M's constructions, each against its closed form: the flat box's projection, the mean + k std objective's
/// gradient, nearest-class-mean classification, the class split and the k-shot draw.</summary>
[TestFixture, Category("Unit")]
public class IncrementalFewShotTests
{
    private static Arbitrary<(float[] Anchor, float[] Step, int BoundIndex)> BoxCases() =>
        (from n in Gen.Choose(1, 12)
         from anchor in Gen.Choose(-4000, 4000).Select(v => v / 1000f).ArrayOf(n)
         from step in Gen.Choose(-3000, 3000).Select(v => v / 10000f).ArrayOf(n)
         from bound in Gen.Choose(0, 3)
         select (anchor, step, bound)).ToArbitrary();

    private static readonly double[] Bounds = [0.01, 0.001, 0.1, 0.05];

    /// <summary>
    /// The clamp invariant: whatever step moved theta, after the projection every coordinate lies in the float32 box
    /// [fl(theta* - b/2), fl(theta* + b/2)] (so |theta - theta*| &lt;= b/2 up to the rounding of those two bounds, at most
    /// half an ulp of each), coordinates already inside are untouched, and those outside land on the nearer edge.
    /// </summary>
    [FsCheck.NUnit.Property(MaxTest = 300)]
    public Property ProjectionKeepsEveryCoordinateWithinHalfTheBoxOfTheAnchor() => Prop.ForAll(BoxCases(), c =>
    {
        using var scope = NewDisposeScope();
        double b = Bounds[c.BoundIndex];
        var anchor = tensor(c.Anchor);
        var theta = tensor(c.Anchor.Zip(c.Step, (a, s) => a + s).ToArray());
        var before = theta.data<float>().ToArray();
        FlatBox.Project([theta], [anchor], b);
        var after = theta.data<float>().ToArray();
        for (int i = 0; i < after.Length; i++)
        {
            float lo = (float)(c.Anchor[i] - (float)(b / 2)), hi = (float)(c.Anchor[i] + (float)(b / 2));
            if (after[i] < lo || after[i] > hi) return false;
            // In exact arithmetic: the box's edges are float32 roundings, each off by at most 2^-24 (|theta*| + b/2).
            if (Math.Abs((double)after[i] - c.Anchor[i]) > b / 2 + Math.Pow(2, -23) * (Math.Abs(c.Anchor[i]) + b)) return false;
            bool inside = before[i] >= lo && before[i] <= hi;
            if (inside && after[i] != before[i]) return false;
            if (!inside && after[i] != (before[i] > hi ? hi : lo)) return false;
        }
        return true;
    });

    /// <summary>The weights c_j of d(mean + k std)/d theta = sum_j c_j grad l_j by hand: M = 2, losses 1 and 3, k = 2:
    /// mean 2, s = sqrt(2), c = 1/2 -+ 2/sqrt(2); M = 3, losses 1, 2, 4: mean 7/3, s = sqrt(7/3), c_j = 1/3 + (l_j - 7/3)/s;
    /// equal losses: s = 0, c_j = 1/M.</summary>
    [Test]
    public void ObjectiveWeightsMatchTheHandComputation()
    {
        var two = FlatBox.ObjectiveWeights([1.0, 3.0], 2.0);
        Assert.That(two[0], Is.EqualTo(0.5 - Math.Sqrt(2)).Within(1e-14));
        Assert.That(two[1], Is.EqualTo(0.5 + Math.Sqrt(2)).Within(1e-14));
        Assert.That(FlatBox.Objective([1.0, 3.0], 2.0), Is.EqualTo(2 + 2 * Math.Sqrt(2)).Within(1e-14));
        double s = Math.Sqrt(7.0 / 3);
        var three = FlatBox.ObjectiveWeights([1.0, 2.0, 4.0], 2.0);
        Assert.That(three, Is.EqualTo(new[] { 1.0 / 3 + (1 - 7.0 / 3) / s, 1.0 / 3 + (2 - 7.0 / 3) / s, 1.0 / 3 + (4 - 7.0 / 3) / s }).Within(1e-14));
        Assert.That(FlatBox.ObjectiveWeights([0.5, 0.5, 0.5], 2.0), Is.EqualTo(new[] { 1.0 / 3, 1.0 / 3, 1.0 / 3 }).Within(1e-15));
        Assert.Throws<ArgumentException>(() => FlatBox.ObjectiveWeights([1.0], 2.0));
    }

    /// <summary>
    /// The objective's gradient on a tiny float64 model (softmax regression 3 -> 4, the weight noised, the bias not) with
    /// three fixed box draws: FlatBox.Gradient's .grad against central finite differences of
    /// F(theta) = mean_j CE(theta + eps_j) + 2 std_j CE(theta + eps_j), every coordinate of weight and bias; the weights
    /// come back bit for bit.
    /// </summary>
    [Test]
    public void ObjectiveGradientMatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var model = nn.Linear(3, 4, dtype: ScalarType.Float64);
        using (no_grad())
        {
            model.weight!.copy_(randn(new long[] { 4, 3 }, dtype: ScalarType.Float64, generator: g));
            model.bias!.copy_(randn(new long[] { 4 }, dtype: ScalarType.Float64, generator: g));
        }
        var x = randn(new long[] { 6, 3 }, dtype: ScalarType.Float64, generator: g);
        var y = tensor(new long[] { 0, 1, 2, 3, 1, 2 });
        Tensor[] parameters = [model.weight!, model.bias!];
        Tensor[] noised = [model.weight!];
        const double bound = 0.5;
        var draws = Enumerable.Range(0, 3).Select(_ => FlatBox.Draw(noised, bound, g)).ToList();
        Assert.That(draws.SelectMany(d => d).All(e => e.abs().max().item<double>() <= bound / 2), Is.True, "box draws lie in [-b/2, b/2]");
        var weightBefore = model.weight!.clone(); var biasBefore = model.bias!.clone();
        Tensor Loss() => nn.functional.cross_entropy(model.forward(x), y);
        var (objective, losses) = FlatBox.Gradient(parameters, noised, draws, Loss, 2.0);
        Assert.That(model.weight!.eq(weightBefore).all().item<bool>() && model.bias!.eq(biasBefore).all().item<bool>(), Is.True, "theta restored bit for bit");
        Assert.That(losses.Distinct().Count(), Is.EqualTo(3), "the draws must give different losses, or the std term is not tested");
        var analytic = parameters.Select(p => p.grad!.clone()).ToList();

        double F()
        {
            using var s = NewDisposeScope();
            using var noGrad = no_grad();
            var values = draws.Select(d =>
            {
                var w = model.weight! + d[0];
                return nn.functional.cross_entropy(nn.functional.linear(x, w, model.bias!), y).item<double>();
            }).ToList();
            return FlatBox.Objective(values, 2.0);
        }
        Assert.That(objective, Is.EqualTo(F()).Within(1e-12));
        const double h = 1e-6;
        for (int pi = 0; pi < parameters.Length; pi++)
        {
            var flat = parameters[pi].view(-1);
            for (long i = 0; i < flat.shape[0]; i++)
            {
                double v = flat[i].item<double>();
                using (no_grad()) flat[i] = v + h;
                double plus = F();
                using (no_grad()) flat[i] = v - h;
                double minus = F();
                using (no_grad()) flat[i] = v;
                double numeric = (plus - minus) / (2 * h);
                Assert.That(analytic[pi].view(-1)[i].item<double>(), Is.EqualTo(numeric).Within(1e-7), $"parameter {pi}, coordinate {i}");
            }
        }
    }

    /// <summary>An MLP 2 -> 2 -> k whose hidden layer is the identity on positive inputs: its features are its inputs.</summary>
    private static Mlp IdentityFeatures(int classes)
    {
        var model = new Mlp([2, 2, classes]);
        using (no_grad())
        {
            var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            named["features.fc0.weight"].copy_(eye(2));
            named["features.fc0.bias"].zero_();
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Nearest class mean by hand, features = inputs: class 6 from (0, 0) and (2, 0) -> prototype (1, 0); class 2 from
    /// (5, 0) -> (5, 0); class 9 from (1, 3) and (1, 5) -> (1, 4). Points: (1, 1) -> squared distances 1, 17, 9 -> 6;
    /// (4, 1) -> 10, 2, 18 -> 2; (1, 3) -> 9, 25, 1 -> 9; (3, 0) -> 4, 4, 20: a tie, the first prototype's label, 6.
    /// </summary>
    [Test]
    public void NearestClassMeanMatchesTheHandComputation()
    {
        using var scope = NewDisposeScope();
        using var model = IdentityFeatures(10);
        var inputs = tensor(new float[] { 0, 0, 2, 0, 5, 0, 1, 3, 1, 5 }, new long[] { 5, 2 });
        var labels = tensor(new long[] { 6, 6, 2, 9, 9 });
        var prototypes = NearestClassMean.Prototypes(model, inputs, labels, [6, 2, 9]);
        Assert.That(prototypes.data<float>().ToArray(), Is.EqualTo(new float[] { 1, 0, 5, 0, 1, 4 }));
        var points = tensor(new float[] { 1, 1, 4, 1, 1, 3, 3, 0 }, new long[] { 4, 2 });
        Assert.That(NearestClassMean.SquaredDistances(points, prototypes).data<float>().ToArray(), Is.EqualTo(new float[] { 1, 17, 9, 10, 2, 18, 9, 25, 1, 4, 4, 20 }));
        Assert.That(NearestClassMean.Classify(points, prototypes, [6, 2, 9]).data<long>().ToArray(), Is.EqualTo(new long[] { 6, 2, 9, 6 }));
        Assert.That(NearestClassMean.Accuracy(model, points, tensor(new long[] { 6, 2, 2, 6 }), prototypes, [6, 2, 9]), Is.EqualTo(0.75));
    }

    /// <summary>The sessions' prototype loss by hand: two 1-shot novel classes at features (0, 0) and (2, 0), one fixed
    /// old prototype at (0, 2). Sample 1: squared distances 0, 4, 4 -> CE = log(1 + 2 e^-4); sample 2: 4, 0, 8 ->
    /// log(1 + e^-4 + e^-8); the loss is their mean.</summary>
    [Test]
    public void PrototypeLossMatchesTheHandComputation()
    {
        using var scope = NewDisposeScope();
        var features = tensor(new double[] { 0, 0, 2, 0 }, new long[] { 2, 2 });
        var old = tensor(new double[] { 0, 2 }, new long[] { 1, 2 });
        double expected = (Math.Log(1 + 2 * Math.Exp(-4)) + Math.Log(1 + Math.Exp(-4) + Math.Exp(-8))) / 2;
        Assert.That(NearestClassMean.PrototypeLoss(features, 1, old).item<double>(), Is.EqualTo(expected).Within(1e-12));
    }

    private static Dataset Labelled(int perClass, int classes, long seed)
    {
        var g = new Generator((ulong)seed);
        var labels = arange(classes).repeat_interleave(perClass);
        var order = randperm(labels.shape[0], generator: g);
        labels = labels.index_select(0, order);
        var inputs = randn(new long[] { labels.shape[0], 4 }, generator: g) + labels.unsqueeze(1).to(ScalarType.Float32);
        return new Dataset(inputs, labels, "synthetic");
    }

    /// <summary>The protocol's split: base classes 0-5, session 1 adds 6-7 and session 2 adds 8-9; Select keeps exactly
    /// those classes' samples in the data's order.</summary>
    [Test]
    public void TheClassSplitIsTheProtocols()
    {
        using var scope = NewDisposeScope();
        var protocol = RegimeRegistry.FewShotProtocol;
        Assert.That(protocol.BaseClassList, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));
        Assert.That(protocol.SessionClasses(1), Is.EqualTo(new[] { 6, 7 }));
        Assert.That(protocol.SessionClasses(2), Is.EqualTo(new[] { 8, 9 }));
        Assert.That(protocol.TotalClasses, Is.EqualTo(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => protocol.SessionClasses(3));
        using var data = Labelled(5, 10, 3);
        using var baseData = ClassSplit.Select(data, protocol.BaseClassList, "base");
        var all = data.Targets.data<long>().ToArray();
        Assert.That(baseData.Targets.data<long>().ToArray(), Is.EqualTo(all.Where(l => l < 6).ToArray()), "the base classes' samples, in order");
        Assert.That(baseData.Count, Is.EqualTo(30));
    }

    /// <summary>
    /// The k-shot draw: class-major (sample i of class classes[i / k]), k distinct samples of each class, exactly the
    /// samples a generator seeded alike picks by one randperm per class in class order, the same for the same seed and
    /// different for another; fewer samples than shots is an error naming the class.
    /// </summary>
    [Test]
    public void TheShotDrawIsClassMajorAndDeterministicPerSeed()
    {
        using var scope = NewDisposeScope();
        using var data = Labelled(9, 10, 4);
        int[] classes = [7, 6];
        using var first = ClassSplit.Shots(data, classes, 5, new Generator(21), "session");
        using var again = ClassSplit.Shots(data, classes, 5, new Generator(21), "session");
        using var other = ClassSplit.Shots(data, classes, 5, new Generator(22), "session");
        Assert.That(first.Targets.data<long>().ToArray(), Is.EqualTo(new long[] { 7, 7, 7, 7, 7, 6, 6, 6, 6, 6 }));
        Assert.That(first.Inputs.eq(again.Inputs).all().item<bool>(), Is.True, "same seed, same shots");
        Assert.That(first.Inputs.eq(other.Inputs).all().item<bool>(), Is.False, "another seed, other shots");
        var g = new Generator(21);
        var labels = data.Targets;
        var expected = classes.SelectMany(c =>
        {
            var members = labels.eq(c).nonzero().flatten();
            return members.index_select(0, randperm(members.shape[0], generator: g).narrow(0, 0, 5)).data<long>().ToArray();
        }).ToArray();
        Assert.That(first.Inputs.eq(data.Inputs.index_select(0, tensor(expected))).all().item<bool>(), Is.True, "one randperm per class, in class order");
        Assert.That(expected.Distinct().Count(), Is.EqualTo(10));
        var ex = Assert.Throws<ArgumentException>(() => ClassSplit.Shots(data, classes, 10, new Generator(1), "session 1"));
        Assert.That(ex!.Message, Does.Contain("class 7").And.Contain("session 1"));
    }

    /// <summary>The sessions end to end on synthetic data: with the flat box every noised weight ends within b/2 of the
    /// base weights (up to the float32 rounding of the box's edges); without it the same sessions move them further; the
    /// base model itself is left unchanged; the same seed gives the same record.</summary>
    [Test]
    public void FlatSessionsStayInTheBoxAndPlainOnesLeaveIt()
    {
        using var scope = NewDisposeScope();
        using var train = Labelled(12, 10, 5);
        using var test = Labelled(6, 10, 6);
        var model = new Mlp([4, 16, 10], seed: 3);
        model.eval();
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var plainSettings = RegimeRegistry.FewShotProtocol with { SessionLearningRate = 0.5 };
        var flatSettings = plainSettings with { Flat = new FlatBoxSettings { Bound = 0.01, NoiseSamples = 2 } };
        var flat = IncrementalFewShot.RunSessions(model, train, test, flatSettings, 9);
        var plain = IncrementalFewShot.RunSessions(model, train, test, plainSettings, 9);
        Assert.That(flat.MaxDrift.Max(), Is.LessThanOrEqualTo(0.005 + 1e-8));
        Assert.That(flat.MaxDrift[^1], Is.GreaterThan(0.004), "the sessions must reach the box's edge, or the box is not tested");
        Assert.That(plain.MaxDrift[^1], Is.GreaterThan(0.01));
        Assert.That(model.parameters().Zip(before, (p, b) => p.eq(b).all().item<bool>()).All(e => e), Is.True, "the base model is not changed");
        Assert.That(flat.BaseAccuracy[0], Is.EqualTo(plain.BaseAccuracy[0]), "the same base model before any session");
        Assert.That(IncrementalFewShot.RunSessions(model, train, test, flatSettings, 9), Is.EqualTo(flat).Using<SessionRecord>((a, b) =>
            a.BaseAccuracy.SequenceEqual(b.BaseAccuracy) && a.SeenAccuracy.SequenceEqual(b.SeenAccuracy) && a.MaxDrift.SequenceEqual(b.MaxDrift)));
        Assert.That(flat.BaseAccuracy.Count, Is.EqualTo(3));
        Assert.That(double.IsNaN(flat.NovelAccuracy[0]) && !double.IsNaN(flat.NovelAccuracy[2]), Is.True);
        // FSCIL-Frozen's sessions (0 epochs): prototypes only, so the weights never move and the base-class accuracy is
        // exactly the frozen model's that every record carries beside its own.
        var frozen = IncrementalFewShot.RunSessions(model, train, test, RegimeRegistry.Get("FSCIL-Frozen").Incremental!, 9);
        Assert.That(frozen.MaxDrift.All(d => d == 0), Is.True);
        Assert.That(frozen.BaseAccuracy, Is.EqualTo(frozen.FrozenBaseAccuracy));
        Assert.That(frozen.FrozenBaseAccuracy, Is.EqualTo(plain.FrozenBaseAccuracy), "the frozen reference is the same whatever the sessions do");
    }
}
