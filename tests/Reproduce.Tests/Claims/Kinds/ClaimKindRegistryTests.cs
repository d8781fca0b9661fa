using System.Text.Json.Nodes;
using NUnit.Framework;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Specs;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Kinds;

/// <summary>
/// Claim kinds are one object each, registered by one line: the loader, the schema and `list kinds` read them from
/// <see cref="ClaimKinds"/>, and each kind's declared tests agree with the claims the repository holds.
/// </summary>
[TestFixture, Category("Unit")]
public class ClaimKindRegistryTests
{
    [Test]
    public void KindsHaveUniqueNamesAndDeclareOnlyKnownTestsAndDirections()
    {
        Assert.That(ClaimKinds.Names, Is.Unique);
        Assert.That(ClaimKinds.Names, Is.EqualTo(ClaimLoader.Kinds), "the loader reads the registry");
        foreach (var kind in ClaimKinds.All)
        {
            Assert.That(ClaimKinds.Get(kind.Name), Is.SameAs(kind));
            Assert.That(kind.Tests, Is.SubsetOf(ClaimSpec.Tests), $"{kind.Name}: its tests are tests the suite knows");
            Assert.That(kind.Tests.Count == 0, Is.EqualTo(!kind.HasDirectionAndTest), $"{kind.Name}: a kind has tests exactly when it names a test");
            Assert.That(kind.Directions, Is.Not.Empty, kind.Name);
            Assert.That(kind.Description, Is.Not.Empty, kind.Name);
        }
        Assert.That(ClaimSpec.Tests, Is.SubsetOf(ClaimKinds.All.SelectMany(k => k.Tests)), "every test belongs to a kind");
        Assert.That(() => ClaimKinds.Get("regression"), Throws.ArgumentException.With.Message.Contains("Valid: comparison, best"));
    }

    [Test]
    public void EveryClaimOfTheRepositoryNamesATestItsKindDeclares()
    {
        // The owner rule ("kendall-tau-difference is the test of a stronger-correlation claim only") trusts each kind's
        // declared tests: a kind that checks a test it does not declare would refuse its own claims' tests elsewhere.
        var settings = SettingLoader.LoadFolder(Repository.Path("claims", "settings"));
        var claims = ClaimLoader.LoadFolder(Repository.Path("claims"), settings);
        foreach (var claim in claims.Where(c => c.Kind.HasDirectionAndTest))
            Assert.That(claim.Kind.Tests, Does.Contain(claim.Test), $"{claim.Id} ({claim.Kind.Name}) names {claim.Test}");
        Assert.That(claims.Select(c => c.Kind).Distinct(), Is.EquivalentTo(ClaimKinds.All), "the catalogue uses every kind");
    }

    [Test]
    public void TheSchemaListsAndDescribesEveryKind()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Repository.Path("claims", "claim.schema.json")))!;
        var kind = schema["properties"]!["kind"]!;
        Assert.That(kind["enum"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(ClaimKinds.Names));
        foreach (var k in ClaimKinds.All) Assert.That(kind["description"]!.GetValue<string>(), Does.Contain($"'{k.Name}': {k.Description}"));
    }
}
