using NUnit.Framework;
using Reproduce.Training;
using Reproduce.Training.Optimisers;
using Reproduce.Training.Regimes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptimiserAuthor;

/// <summary>Lion's update against hand computation, and its registration with the suite.</summary>
[TestFixture, Category("OptimiserAuthor")]
public class LionTests
{
    /// <summary>
    /// Three steps on w0 = (1, -2, 0.5, 3) in float64 with lr 0.01, lambda 0.1 and the paper's betas (0.9, 0.99). The loss
    /// of step t is sum(a_t * w), so its gradient is a_t exactly. Per step: c = 0.9 m + 0.1 g; w = w (1 - 0.001) - 0.01 sign(c);
    /// m = 0.99 m + 0.01 g. The gradients are chosen so that a wrong rule changes a sign:
    /// <code>
    /// step 1: g = ( 1,     1,    -1,   0.5)  m = 0: c = 0.1 g = (0.1, 0.1, -0.1, 0.05), sign ( 1,  1, -1,  1)
    ///         w = (0.999 - 0.01, -1.998 - 0.01, 0.4995 + 0.01, 2.997 - 0.01) = (0.989, -2.008, 0.5095, 2.987)
    ///         m = 0.01 g = (0.01, 0.01, -0.01, 0.005)
    /// step 2: g = (-0.05, -0.2,   3,   0)    c = (0.009 - 0.005, 0.009 - 0.02, -0.009 + 0.3, 0.0045) = (0.004, -0.011, 0.291, 0.0045)
    ///         sign ( 1, -1,  1,  1): entry 0 follows the momentum against the gradient, entry 3 has no gradient at all;
    ///         with the betas swapped entry 1 would be 0.99 * 0.1 - 0.01 * 0.2 > 0
    ///         w = 0.999 w - 0.01 sign(c) = (0.978011, -1.995992, 0.4989905, 2.974013)
    ///         m = 0.99 m + 0.01 g = (0.0094, 0.0079, 0.0201, 0.00495)
    /// step 3: g = 0                          c = 0.9 m > 0, sign (1, 1, 1, 1): entry 1 is +1 only because m is updated with
    ///         beta2 (0.99 * 0.01 - 0.01 * 0.2 > 0; with beta1 it would be 0.9 * 0.01 - 0.1 * 0.2 &lt; 0, and already step 2
    ///         would differ, from m = 0.1 g after step 1)
    ///         w = 0.999 w - 0.01 = (0.967032989, -2.003996008, 0.4884915095, 2.961038987)
    /// </code>
    /// </summary>
    [Test]
    public void ThreeStepsMatchTheUpdateRuleByHand()
    {
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new[] { 1.0, -2.0, 0.5, 3.0 }, dtype: ScalarType.Float64));
        using var lion = new Lion([w], lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.1);
        double[][] gradients = [[1, 1, -1, 0.5], [-0.05, -0.2, 3, 0], [0, 0, 0, 0]];
        double[][] expected =
        [
            [0.989, -2.008, 0.5095, 2.987],
            [0.978011, -1.995992, 0.4989905, 2.974013],
            [0.967032989, -2.003996008, 0.4884915095, 2.961038987],
        ];
        for (int t = 0; t < 3; t++)
        {
            lion.zero_grad();
            (tensor(gradients[t], dtype: ScalarType.Float64) * w).sum().backward();
            lion.step();
            Assert.That(w.detach().data<double>().ToArray(), Is.EqualTo(expected[t]).Within(1e-12), $"weights after step {t + 1}");
        }
    }

    [Test]
    public void RejectsHyperParametersOutsideTheirRange()
    {
        using var w = new Parameter(zeros(2));
        Assert.That(() => new Lion([w], lr: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new Lion([w], lr: 1e-3, beta1: 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new Lion([w], lr: 1e-3, beta2: -0.1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new Lion([w], lr: 1e-3, weightDecay: double.NaN), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>The set-up fixture's registration: the registry builds a Lion from the trainer's settings, and the Lion
    /// regime trains the setting's recipe with it at the scaled learning rate (the SGD momentum is handed on and ignored).</summary>
    [Test]
    public void TheRegistrationReachesTheTrainer()
    {
        using var w = new Parameter(zeros(2));
        using var optimiser = OptimiserRegistry.Create(LionRegistration.OptimiserName, [w], new OptimiserSettings(0.05, Momentum: 0.9, WeightDecay: 5e-4));
        Assert.That(optimiser, Is.InstanceOf<Lion>());
        Assert.That(optimiser.ParamGroups.Single().LearningRate, Is.EqualTo(0.05));

        var recipe = new TrainerOptions { LearningRate = 0.05, Momentum = 0.9, Optimiser = "sgd" }.With(RegimeRegistry.Get(LionRegistration.RegimeName));
        Assert.That(recipe.Optimiser, Is.EqualTo(LionRegistration.OptimiserName));
        Assert.That(recipe.LearningRate, Is.EqualTo(0.05 * LionRegistration.LearningRateScale));
        Assert.That(new TrainerOptions { LearningRate = 0.05 }.With(RegimeRegistry.Get("Base")).LearningRate, Is.EqualTo(0.05), "a regime without a scale keeps the setting's learning rate");
    }

    /// <summary>Run keys are hashes of the serialised regime: a regime that sets no learning-rate scale must serialise
    /// as before the field existed, or every stored run and baseline of the suite would be orphaned.</summary>
    [Test]
    public void TheLearningRateScaleIsSerialisedOnlyWhenSet()
    {
        var web = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        Assert.That(System.Text.Json.JsonSerializer.Serialize(RegimeRegistry.Get("Base"), web), Does.Not.Contain("learningRateScale"));
        Assert.That(System.Text.Json.JsonSerializer.Serialize(RegimeRegistry.Get(LionRegistration.RegimeName), web), Does.Contain($"\"learningRateScale\":{LionRegistration.LearningRateScale}"));
        Assert.That(() => new Regime { Name = "bad", LearningRateScale = 0 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
