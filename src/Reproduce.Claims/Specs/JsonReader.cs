using System.Text.Json;

namespace Reproduce.Claims.Specs;

/// <summary>
/// Reads a JSON object field by field, collecting errors with their JSON paths ($.settings[1], $.profiles.smoke.epochs)
/// instead of stopping at the first, and rejecting unknown fields (a typo must not silently fall back to a default).
/// </summary>
internal sealed class JsonReader(string file, List<SpecError> errors)
{
    public string File { get; } = file;
    public List<SpecError> Errors { get; } = errors;

    public void Error(string path, string message) => Errors.Add(new SpecError(File, path, message));

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object", JsonValueKind.Array => "an array", JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number", JsonValueKind.True or JsonValueKind.False => "a boolean", JsonValueKind.Null => "null",
        _ => "nothing",
    };

    public bool IsObject(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Object) return true;
        Error(path, $"expected an object, found {Describe(e.ValueKind)}");
        return false;
    }

    public void OnlyKnown(JsonElement obj, string path, params string[] known)
    {
        foreach (var p in obj.EnumerateObject())
            if (!known.Contains(p.Name) && p.Name != "$schema")
                Error($"{path}.{p.Name}", $"unknown field; valid fields: {string.Join(", ", known)}");
    }

    public JsonElement? Get(JsonElement obj, string path, string name, bool required)
    {
        if (obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        if (required) Error($"{path}.{name}", "required field is missing");
        return null;
    }

    public string? String(JsonElement obj, string path, string name, bool required = true, IReadOnlyCollection<string>? allowed = null)
    {
        var v = Get(obj, path, name, required);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.String) { Error($"{path}.{name}", $"expected a string, found {Describe(v.Value.ValueKind)}"); return null; }
        var s = v.Value.GetString()!;
        if (string.IsNullOrWhiteSpace(s)) { Error($"{path}.{name}", "must not be empty"); return null; }
        if (allowed is not null && !allowed.Contains(s)) { Error($"{path}.{name}", $"unknown value '{s}'; valid: {string.Join(", ", allowed)}"); return null; }
        return s;
    }

    public double? Number(JsonElement obj, string path, string name, bool required = true, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var v = Get(obj, path, name, required);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Number) { Error($"{path}.{name}", $"expected a number, found {Describe(v.Value.ValueKind)}"); return null; }
        double d = v.Value.GetDouble();
        if (d < min || d > max) { Error($"{path}.{name}", $"{d} is outside [{min}, {max}]"); return null; }
        return d;
    }

    public int? Integer(JsonElement obj, string path, string name, bool required = true, int min = int.MinValue, int max = int.MaxValue)
    {
        var v = Get(obj, path, name, required);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Number || !v.Value.TryGetInt32(out int i)) { Error($"{path}.{name}", $"expected an integer, found {(v.Value.ValueKind == JsonValueKind.Number ? v.Value.GetRawText() : Describe(v.Value.ValueKind))}"); return null; }
        if (i < min || i > max) { Error($"{path}.{name}", $"{i} is outside [{min}, {max}]"); return null; }
        return i;
    }

    public List<string>? Strings(JsonElement obj, string path, string name, bool required = true, IReadOnlyCollection<string>? allowed = null, bool nonEmpty = true)
    {
        var v = Get(obj, path, name, required);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Array) { Error($"{path}.{name}", $"expected an array of strings, found {Describe(v.Value.ValueKind)}"); return null; }
        var list = new List<string>();
        int i = 0;
        foreach (var item in v.Value.EnumerateArray())
        {
            string p = $"{path}.{name}[{i++}]";
            if (item.ValueKind != JsonValueKind.String) { Error(p, $"expected a string, found {Describe(item.ValueKind)}"); continue; }
            var s = item.GetString()!;
            if (allowed is not null && !allowed.Contains(s)) { Error(p, $"unknown value '{s}'; valid: {string.Join(", ", allowed)}"); continue; }
            if (list.Contains(s)) { Error(p, $"'{s}' is listed twice"); continue; }
            list.Add(s);
        }
        if (nonEmpty && list.Count == 0 && i == 0) Error($"{path}.{name}", "must not be empty");
        return list;
    }

    /// <summary>A required array of objects, each read by <paramref name="read"/> with its JSON path ($.name[i]).</summary>
    public List<T> Objects<T>(JsonElement obj, string path, string name, Func<JsonElement, string, T> read)
    {
        var list = new List<T>();
        var v = Get(obj, path, name, true);
        if (v is null) return list;
        if (v.Value.ValueKind != JsonValueKind.Array) { Error($"{path}.{name}", $"expected an array, found {Describe(v.Value.ValueKind)}"); return list; }
        int i = 0;
        foreach (var item in v.Value.EnumerateArray())
        {
            string p = $"{path}.{name}[{i++}]";
            if (IsObject(item, p)) list.Add(read(item, p));
        }
        return list;
    }

    public static JsonDocument Parse(string file)
    {
        if (!System.IO.File.Exists(file)) throw new SpecException(file, "$", "file not found");
        string text = System.IO.File.ReadAllText(file);
        // A key named twice (JsonDocument would silently read the last) or a string that is not valid UTF-16.
        if (Training.Serialisation.JsonTextCheck.Find(text) is { } problem) throw new SpecException(file, problem.Path, problem.Message);
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SpecException(file, "$", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
    }
}
