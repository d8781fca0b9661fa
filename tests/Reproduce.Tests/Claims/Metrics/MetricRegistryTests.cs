using NUnit.Framework;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Measurement.Safety;
using Reproduce.Tests.Support;
using Reproduce.Training.Regimes;
using static TorchSharp.torch;

namespace Reproduce.Tests.Claims.Metrics;

/// <summary>
/// One registration per metric: the claim schema's enums, the claim loader's valid names and the runner's per-run /
/// per-group split are all the registry's (the listing's agreement is checked through the CLI in CommandLineTests),
/// and each metric's parameters are written into its description.
/// </summary>
[TestFixture, Category("Unit")]
public class MetricRegistryTests
{
    private static readonly string SchemaPath = Repository.Path("claims", ClaimSchema.FileName);

    [Test]
    public void TheClaimSchemaListsExactlyTheRegisteredMetricsAndRegimes()
    {
        string schema = File.ReadAllText(SchemaPath);
        Assert.That(ClaimSchema.EnumOf(schema, "metrics"), Is.EqualTo(MetricRegistry.Names), "run `reproduce schema --write` after registering a metric");
        Assert.That(ClaimSchema.EnumOf(schema, "regimes"), Is.EqualTo(RegimeRegistry.Names), "run `reproduce schema --write` after registering a regime");
        Assert.That(ClaimSchema.Generate(schema), Is.EqualTo(schema), "the schema file is exactly what `reproduce schema` writes");
    }

    [Test]
    public void TheGeneratorReplacesOnlyTheEnums()
    {
        string stale = File.ReadAllText(SchemaPath).Replace("\"epsilon_sharpness\"", "\"retired_metric\"").Replace("\"Base-control\"", "\"Dropout\"");
        string regenerated = ClaimSchema.Generate(stale);
        Assert.That(ClaimSchema.EnumOf(regenerated, "metrics"), Is.EqualTo(MetricRegistry.Names));
        Assert.That(ClaimSchema.EnumOf(regenerated, "regimes"), Is.EqualTo(RegimeRegistry.Names));
        Assert.That(regenerated, Is.EqualTo(File.ReadAllText(SchemaPath)));
        Assert.That(() => ClaimSchema.Generate("""{ "properties": {} }""", "s.json"),
            Throws.InstanceOf<SpecException>().With.Message.Contains("s.json").And.Message.Contains("$.properties.metrics.items"));
    }

    [Test]
    public void TheClaimLoaderAcceptsExactlyTheRegisteredMetrics()
    {
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        var folder = Repository.TempFolder("registry-claim");
        try
        {
            string Claim(string metric)
            {
                // A per-group metric's claims take the permutation test over models (its per-seed values share models).
                string test = MetricRegistry.Names.Contains(metric) && MetricRegistry.Get(metric).PerGroup ? "model-permutation" : "wilcoxon-signed-rank";
                string path = Path.Combine(folder, "x.json");
                File.WriteAllText(path, $$"""
                    { "id": "x", "statement": "s", "source": { "paper": "p", "location": "l" }, "kind": "comparison", "settings": ["mlp"],
                      "reference": "Base", "regimes": ["WD"], "metrics": ["{{metric}}"], "direction": "higher", "test": "{{test}}",
                      "family": "paper-sharpness", "support": "none" }
                    """);
                return path;
            }
            foreach (var name in MetricRegistry.Names)
                Assert.That(ClaimLoader.Load(Claim(name), settings).Metrics, Is.EqualTo(new[] { name }));
            Assert.That(() => ClaimLoader.Load(Claim("sharpness_of_my_choice"), settings),
                Throws.InstanceOf<SpecException>().With.Message.Contains($"unknown value 'sharpness_of_my_choice'; valid: {string.Join(", ", MetricRegistry.Names)}"));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void PerGroupMetricsAreTheGroupMetricObjects()
    {
        foreach (var metric in MetricRegistry.All)
        {
            Assert.That(RunPlan.IsPerGroup(metric.Name), Is.EqualTo(metric is GroupMetric), metric.Name);
            Assert.That(metric is RunMetric or GroupMetric, Is.True, metric.Name);
            Assert.That(metric.Better is null, Is.EqualTo(metric.Family == MetricFamily.Sharpness), $"{metric.Name}: safety metrics have a better direction, sharpness metrics none");
        }
        Assert.That(MetricRegistry.GroupMetrics.Select(m => m.Name), Is.EqualTo(new[] { "disagreement", "js_divergence" }));
        Assert.That(() => MetricRegistry.GetPerRun("disagreement"), Throws.ArgumentException.With.Message.Contains("not computed per run"));
        Assert.That(() => MetricRegistry.Get("nope"), Throws.ArgumentException.With.Message.Contains("Valid: test_accuracy, train_loss"));
    }

    [Test]
    public void EveryParameterIsWrittenIntoItsDescription()
    {
        foreach (var metric in MetricRegistry.All)
            foreach (var p in metric.Parameters)
                Assert.That(metric.Description, Does.Contain(p.FormattedValue), $"{metric.Name}: parameter {p.Name}");
        // A changed parameter changes the description: they are one value, not two copies.
        Assert.That(new PgdAccuracyMetric { Epsilon = 0.1, Steps = 3 }.Description, Does.Contain("eps 0.1").And.Contain("3 steps"));
        Assert.That(new HessianTopEigenvalueMetric { Tolerance = 1e-6, MaxIterations = 7 }.Description, Does.Contain("tolerance 1E-06").And.Contain("at most 7 iterations"));
        Assert.That(new SamSharpnessMetric().Parameters.Select(p => (p.Name, p.Value)), Is.EqualTo(new[] { ("Rho", (object)0.005) }));
        Assert.That(MetricRegistry.Get("hessian_top_eigenvalue").Parameters.Select(p => p.Name), Is.EqualTo(new[] { "Tolerance", "MaxIterations" }));
    }

    [Test]
    public void RegistrationRefusesADuplicateOrADirectionlessSafetyMetric()
    {
        Assert.That(() => MetricRegistry.Register(new TestAccuracyMetric()), Throws.ArgumentException.With.Message.Contains("'test_accuracy' is already registered"));
        Assert.That(() => MetricRegistry.Register(new Directionless()), Throws.ArgumentException.With.Message.Contains("a safety metric says which direction is better"));
        Assert.That(MetricRegistry.Contains("directionless"), Is.False);
    }

    private sealed class Directionless : RunMetric
    {
        public override string Name => "directionless";
        public override MetricFamily Family => MetricFamily.Safety;
        public override string Description => "a safety metric without a better direction";
        public override MetricValue Compute(RunMeasurementContext run) => new(0, "{}");
    }

    [Test]
    public void AGroupMetricIsTheMeanOverTheOtherSeedsWithTheStoredDetails()
    {
        using var scope = NewDisposeScope();
        // Three models on four points (2 classes); predicted classes: a = 0 0 1 1, b = 0 1 1 1, c = 1 1 1 1.
        Predictions P(params double[] p1) => new(tensor(p1.SelectMany(p => new[] { 1 - p, p }).ToArray(), new long[] { p1.Length, 2 }), tensor(new long[] { 0, 0, 1, 1 }));
        using var group = new GroupMeasurementContext([P(0.1, 0.2, 0.8, 0.9), P(0.1, 0.6, 0.8, 0.9), P(0.7, 0.6, 0.8, 0.9)], [0, 1, 2]);
        var disagreement = (DisagreementMetric)MetricRegistry.Get("disagreement");
        // a disagrees with b on 1 of 4 points, with c on 2 of 4: mean (0.25 + 0.5) / 2.
        var a = disagreement.Compute(group, 0);
        Assert.That(a.Value, Is.EqualTo(0.375).Within(1e-15));
        Assert.That(a.Details, Is.EqualTo("""{"others":2,"seeds":[0,1,2]}"""));
        Assert.That(disagreement.Compute(group, 2).Value, Is.EqualTo((0.5 + 0.25) / 2).Within(1e-15));
        var js = (GroupMetric)MetricRegistry.Get("js_divergence");
        double expected = (FunctionalConsistency.JensenShannon(group.Members[1], group.Members[0]) + FunctionalConsistency.JensenShannon(group.Members[1], group.Members[2])) / 2;
        Assert.That(js.Compute(group, 1).Value, Is.EqualTo(expected));
    }
}
