using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Claims.Metrics;
using Reproduce.Training.Regimes;

namespace Reproduce.Claims.Specs;

/// <summary>
/// claims/claim.schema.json's name lists, derived from the registries: the metric enum from
/// <see cref="MetricRegistry"/>, the regime enum from <see cref="RegimeRegistry"/>, the kind and test enums from
/// <see cref="ClaimLoader.Kinds"/> and <see cref="ClaimSpec.Tests"/>, the family enum and its description from
/// <see cref="ClaimFamilies"/>. Everything else in the schema is
/// written by hand and kept as it is. <c>reproduce schema --write</c> rewrites the file; a test fails while the file
/// and the registries disagree.
/// </summary>
public static class ClaimSchema
{
    public const string FileName = "claim.schema.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The schema text with its metric and regime enums replaced by the registries' names (in registration
    /// order), two-space indented, with a final newline.</summary>
    public static string Generate(string schemaText, string file = FileName)
    {
        JsonObject root;
        try { root = JsonNode.Parse(schemaText)?.AsObject() ?? throw new SpecException(file, "$", "the schema is not a JSON object"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new SpecException(file, "$", $"the schema is not a JSON object: {e.Message}"); }
        SetEnum(root, file, "metrics", MetricRegistry.Names);
        SetEnum(root, file, "regimes", RegimeRegistry.Names);
        if (root["properties"]?["kind"] is not JsonObject kind)
            throw new SpecException(file, "$.properties.kind", "missing: the schema must describe the claim's kind");
        kind["enum"] = new JsonArray([.. ClaimLoader.Kinds.Select(n => (JsonNode)JsonValue.Create(n))]);
        kind["description"] = "What the claim asserts and how it is tested: " + string.Join(" ", Kinds.ClaimKinds.All.Select(k => $"'{k.Name}': {k.Description}."));
        if (root["properties"]?["test"] is not JsonObject test)
            throw new SpecException(file, "$.properties.test", "missing: the schema must describe the claim's test");
        test["enum"] = new JsonArray([.. ClaimSpec.Tests.Select(n => (JsonNode)JsonValue.Create(n))]);
        // The family is a single string, not a list: its enum sits on the property itself, with a description written
        // from the families' own descriptions.
        if (root["properties"]?["family"] is not JsonObject family)
            throw new SpecException(file, "$.properties.family", "missing: the schema must describe the claim's family");
        family["enum"] = new JsonArray([.. ClaimFamilies.Names.Select(n => (JsonNode)JsonValue.Create(n))]);
        family["description"] = "Multiple-testing family (Benjamini-Yekutieli of the two-sided p's within it): "
            + string.Join(" ", ClaimFamilies.All.Select(f => $"'{f.Name}': {f.Description}"));
        return root.ToJsonString(Indented) + "\n";
    }

    /// <summary>The names the schema's enum at $.properties.&lt;property&gt;.items.enum lists.</summary>
    public static IReadOnlyList<string> EnumOf(string schemaText, string property) =>
        [.. JsonNode.Parse(schemaText)!["properties"]![property]!["items"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>())];

    private static void SetEnum(JsonObject root, string file, string property, IReadOnlyList<string> names)
    {
        if (root["properties"]?[property]?["items"] is not JsonObject items)
            throw new SpecException(file, $"$.properties.{property}.items", "missing: the schema must describe the items of the claim's " + property);
        items["enum"] = new JsonArray([.. names.Select(n => (JsonNode)JsonValue.Create(n))]);
    }
}
