using System.Text.Json;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;

namespace OptimiserAuthor;

/// <summary>
/// The author's reviewed expectations (expected-verdicts.json): for one profile, the verdict each claim the example runs
/// must get. The claim tests fail when a verdict differs, as the suite's own claim tests fail against baselines/; after
/// reviewing a new verdict, the author edits this file (with a line in "review" saying why). A malformed file is the
/// suite's SpecException, naming the file and the JSON path.
/// </summary>
public sealed record ExpectedVerdicts(string File, string Profile, string Review, IReadOnlyDictionary<string, string> Verdicts)
{
    public static ExpectedVerdicts Load(string file)
    {
        if (!System.IO.File.Exists(file)) throw new SpecException(file, "$", "file not found");
        JsonDocument document;
        try { document = JsonDocument.Parse(System.IO.File.ReadAllText(file)); }
        catch (JsonException e) { throw new SpecException(file, "$", $"not valid JSON: {e.Message}"); }
        using (document)
        {
            var errors = new List<SpecError>();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new SpecException(file, "$", "expected an object {profile, review, verdicts}");
            foreach (var p in root.EnumerateObject())
                if (p.Name is not ("profile" or "review" or "verdicts")) errors.Add(new SpecError(file, $"$.{p.Name}", "unknown field; valid fields: profile, review, verdicts"));
            string? String(string name)
            {
                if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String) return v.GetString();
                errors.Add(new SpecError(file, $"$.{name}", "required string is missing"));
                return null;
            }
            var profile = String("profile");
            var review = String("review");
            var verdicts = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!root.TryGetProperty("verdicts", out var vs) || vs.ValueKind != JsonValueKind.Object)
                errors.Add(new SpecError(file, "$.verdicts", "required object {claim id: verdict} is missing"));
            else
                foreach (var v in vs.EnumerateObject())
                {
                    if (v.Value.ValueKind == JsonValueKind.String && Reproduce.Claims.Evaluation.Verdicts.All.Contains(v.Value.GetString()!)) verdicts[v.Name] = v.Value.GetString()!;
                    else errors.Add(new SpecError(file, $"$.verdicts.{v.Name}", $"expected one of: {string.Join(", ", Reproduce.Claims.Evaluation.Verdicts.All)}"));
                }
            if (errors.Count > 0) throw new SpecException(errors);
            return new ExpectedVerdicts(file, profile!, review!, verdicts);
        }
    }
}
