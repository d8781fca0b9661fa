using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reproduce.Claims.Specs;

/// <summary>
/// Reads and validates claims/sweeps/*.json against the catalogue's claims and settings, and expands a sweep at a
/// profile into its cells: one derived setting per (setting, cell) and one derived claim per (claim, cell). Every
/// problem names the sweep's file and JSON path, including a cell whose derived setting breaks a setting rule (e.g. a
/// learning rate out of range, a model too large): each derived setting profile is validated by the setting
/// loader itself (<see cref="SettingLoader.ReadProfile"/>), so a sweep cannot produce a setting no file could.
/// </summary>
public static class SweepLoader
{
    private static readonly string[] Fields = ["id", "description", "claims", "settings", "axes", "profiles"];

    public static IReadOnlyList<SweepSpec> LoadFolder(string folder, IReadOnlyList<ClaimSpec> claims, IReadOnlyDictionary<string, SettingSpec> settings)
    {
        if (!Directory.Exists(folder)) return [];
        var sweeps = new List<SweepSpec>();
        var errors = new List<SpecError>();
        foreach (var file in Directory.GetFiles(folder, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            try { sweeps.Add(Load(file, claims, settings)); }
            catch (SpecException e) { errors.AddRange(e.Errors); }
        }
        foreach (var s in sweeps.Where(s => claims.Any(c => c.Id == s.Id)))
            errors.Add(new SpecError(s.File, "$.id", $"'{s.Id}' is also a claim's id"));
        if (errors.Count > 0) throw new SpecException(errors);
        return sweeps;
    }

    public static SweepSpec Load(string file, IReadOnlyList<ClaimSpec> claims, IReadOnlyDictionary<string, SettingSpec> settings)
    {
        using var doc = JsonReader.Parse(file);
        var errors = new List<SpecError>();
        var r = new JsonReader(file, errors);
        var root = doc.RootElement;
        if (!r.IsObject(root, "$")) throw new SpecException(errors);
        r.OnlyKnown(root, "$", Fields);
        var id = r.String(root, "$", "id");
        if (id is not null)
        {
            if (!ClaimSpec.IsValidId(id)) r.Error("$.id", $"'{id}' must be lower-case letters, digits and dashes");
            else if (Path.GetFileNameWithoutExtension(file) != id) r.Error("$.id", $"'{id}' must equal the file name ('{Path.GetFileNameWithoutExtension(file)}')");
        }
        var description = r.String(root, "$", "description", required: false) ?? "";
        var byId = claims.ToDictionary(c => c.Id);
        var claimIds = r.Strings(root, "$", "claims", allowed: [.. byId.Keys.Order(StringComparer.Ordinal)]);
        var chosen = claimIds?.Select(c => byId[c]).ToList() ?? [];
        foreach (var (c, i) in chosen.Select((c, i) => (c, i)))
            if (c.Cell is not null) r.Error($"$.claims[{i}]", $"'{c.Id}' is a sweep's cell, not a catalogue claim");
        var ofClaims = chosen.SelectMany(c => c.Settings).Distinct().Order(StringComparer.Ordinal).ToList();
        var settingNames = r.Get(root, "$", "settings", false) is null ? null : r.Strings(root, "$", "settings", allowed: ofClaims);
        if (settingNames is not null)
            for (int i = 0; i < chosen.Count; i++)
            {
                var c = chosen[i];
                var kept = c.Settings.Where(settingNames.Contains).ToList();
                if (kept.Count == 0) r.Error($"$.claims[{i}]", $"'{c.Id}' trains none of the listed settings ({string.Join(", ", settingNames)}); it trains {string.Join(", ", c.Settings)}");
                // A condition or trend compares its settings with each other: a subset of them is another claim.
                else if (c.Kind.OrdersSettings && kept.Count != c.Settings.Count)
                    r.Error($"$.claims[{i}]", $"'{c.Id}' is a {c.Kind.Name} claim over {string.Join(", ", c.Settings)}: a sweep keeps all of them or leaves the claim out");
            }
        var axes = ReadAxes(r, root);
        // A condition or trend compares its settings with each other; a swept field on which they differ would be set to
        // one value in all of them, and the claim would compare nothing. (None does today; the loader keeps it so.)
        foreach (var (c, i) in chosen.Select((c, i) => (c, i)).Where(t => t.c.Kind.OrdersSettings))
            foreach (var axis in axes)
                foreach (var profile in c.Settings.Select(s => settings[s].Profiles.Keys).Aggregate((a, b) => a.Intersect(b).ToList()))
                    if (c.Settings.Select(s => AxisValue(settings[s].For(profile), axis.Field)).Distinct().Count() > 1)
                    {
                        r.Error($"$.claims[{i}]", $"'{c.Id}' compares settings that differ in {axis.Field} at profile {profile}; sweeping {axis.Field} would make them equal");
                        break;
                    }
        // The profiles at which every swept claim runs and every swept setting has a setting profile.
        var swept = chosen.SelectMany(c => c.Settings.Where(s => settingNames?.Contains(s) ?? true)).Distinct().ToList();
        var possible = swept.Count == 0 ? [] : swept.Select(s => settings[s].Profiles.Keys).Aggregate((a, b) => a.Intersect(b).ToList())
            .Where(p => chosen.All(c => c.RunsAt(p))).Order(StringComparer.Ordinal).ToList();
        var profiles = r.Get(root, "$", "profiles", false) is null ? null : r.Strings(root, "$", "profiles", allowed: possible);
        if (errors.Count == 0 && possible.Count == 0)
            r.Error("$.claims", "no profile runs all these claims with all these settings, so the sweep would never run");
        if (errors.Count > 0) throw new SpecException(errors);
        // Without "profiles": every profile where it can run, resolved here so that it is never active where it cannot.
        var sweep = new SweepSpec { Id = id!, File = file, Description = description, Claims = claimIds!, Settings = settingNames, Axes = axes, Profiles = profiles ?? possible };
        // Every cell at every profile the sweep runs at must give valid settings: checked now, so a broken cell is a load
        // error naming the sweep, not a failure hours into a nightly run.
        foreach (var profile in sweep.Profiles!) Expand(sweep, chosen, settings, profile);
        return sweep;
    }

    private static List<SweepAxis> ReadAxes(JsonReader r, JsonElement root)
    {
        var axes = new List<SweepAxis>();
        if (r.Get(root, "$", "axes", true) is not { } element || !r.IsObject(element, "$.axes")) return axes;
        foreach (var p in element.EnumerateObject())
        {
            string path = $"$.axes.{p.Name}";
            if (!SweepAxes.Names.Contains(p.Name)) { r.Error(path, $"unknown axis; valid: {string.Join(", ", SweepAxes.Names)}"); continue; }
            if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() == 0) { r.Error(path, $"expected a non-empty array of numbers, found {JsonReader.Describe(p.Value.ValueKind)}"); continue; }
            var values = new List<double>();
            int i = 0;
            foreach (var v in p.Value.EnumerateArray())
            {
                string at = $"{path}[{i++}]";
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x) || !double.IsFinite(x)) { r.Error(at, $"expected a number, found {(v.ValueKind == JsonValueKind.Number ? v.GetRawText() : JsonReader.Describe(v.ValueKind))}"); continue; }
                if (SweepAxes.IsCount(p.Name) && (x != Math.Floor(x) || x < 1 || x > int.MaxValue)) { r.Error(at, $"{v.GetRawText()} is not a count: {p.Name} takes integers from 1"); continue; }
                if (!(x > 0)) { r.Error(at, $"{v.GetRawText()} must be positive"); continue; }
                if (values.Contains(x)) { r.Error(at, $"{v.GetRawText()} is listed twice"); continue; }
                values.Add(x);
            }
            if (values.Count > 12) r.Error(path, $"{values.Count} values: at most 12 per axis (each value multiplies the runs)");
            if (values.Count > 0) axes.Add(new SweepAxis(p.Name, values));
        }
        if (axes.Count is 0 or > 2 && r.Errors.Count == 0)
            r.Error("$.axes", $"names one or two axes (the map's rows and columns); found {axes.Count}");
        return axes;
    }

    /// <summary>
    /// The sweep's cells at a profile: derived settings by name, and derived claims in cell order (row-major), then
    /// claim order. A derived claim keeps its claim's kind, regimes, metrics, direction, test and premises; its settings
    /// are the cell's copies of the claim's swept settings, its family the sweep's.
    /// </summary>
    public static (IReadOnlyDictionary<string, SettingSpec> Settings, IReadOnlyList<ClaimSpec> Claims) Expand(
        SweepSpec sweep, IReadOnlyList<ClaimSpec> claims, IReadOnlyDictionary<string, SettingSpec> settings, string profile)
    {
        var derivedSettings = new Dictionary<string, SettingSpec>(StringComparer.Ordinal);
        var derivedClaims = new List<ClaimSpec>();
        var errors = new List<SpecError>();
        var byId = claims.ToDictionary(c => c.Id);
        foreach (var cell in sweep.Cells())
        {
            string label = SweepSpec.Label(cell);
            foreach (var claimId in sweep.Claims)
            {
                var claim = byId[claimId];
                var names = new List<string>();
                foreach (var s in claim.Settings.Where(s => sweep.Settings?.Contains(s) ?? true))
                {
                    string name = $"{s}@{label}";
                    names.Add(name);
                    if (derivedSettings.ContainsKey(name)) continue;
                    var r = new JsonReader(sweep.File, errors);
                    var derived = Derive(r, settings[s], profile, cell, $"$.axes<cell {label}; setting {s}; profile {profile}>");
                    if (derived is not null)
                        derivedSettings[name] = settings[s] with { Name = name, Profiles = new Dictionary<string, SettingProfile> { [profile] = derived } };
                }
                derivedClaims.Add(claim with
                {
                    Id = $"{sweep.Id}.{claim.Id}@{label}", File = sweep.File, Settings = names, Family = sweep.Family, Profiles = [profile],
                    Cell = new SweepCell(sweep.Id, claim.Id, cell),
                });
            }
        }
        if (errors.Count > 0) throw new SpecException(errors);
        return (derivedSettings, derivedClaims);
    }

    /// <summary>
    /// The setting's profile with the cell's values, re-read by the setting loader: the profile is written as the JSON a
    /// setting file would hold (its canonical form, the one run keys hash), the fields replaced, and read back with the
    /// same rules. A cell that replaces nothing therefore gives the identical profile, hence the same run keys.
    /// </summary>
    internal static SettingProfile? Derive(JsonReader r, SettingSpec setting, string profile, IReadOnlyList<(string Field, double Value)> cell, string path)
    {
        var original = setting.For(profile);
        var node = JsonSerializer.SerializeToNode(original, SettingProfileJson)!.AsObject();
        foreach (var (field, value) in cell)
            switch (field)
            {
                case "epochs" or "batchSize": node[field] = (int)value; break;
                case "trainSize":
                    node["trainSize"] = (int)value;
                    node["measureSize"] = Math.Min(original.MeasureSize, (int)value);
                    break;
                case "learningRate": node[field] = value; break;
                case "widthFactor":
                    var model = node["model"]!.AsObject();
                    string kind = original.Model.Kind;
                    static JsonArray Scale(JsonArray a, double f, int skipFirst, int skipLast) =>
                        [.. a.Select((x, i) => (JsonNode)JsonValue.Create(i < skipFirst || i >= a.Count - skipLast ? x!.GetValue<int>() : Math.Max(1, (int)Math.Round(x!.GetValue<int>() * f, MidpointRounding.AwayFromZero))))];
                    if (kind is "mlp" or "linear" && model["widths"] is JsonArray w) model["widths"] = Scale(w, value, 1, 1);
                    else if (kind is "lenet" or "resnet")
                    {
                        if (model["channels"] is JsonArray ch) model["channels"] = Scale(ch, value, 0, 0);
                        if (kind == "lenet" && model["widths"] is JsonArray hw) model["widths"] = Scale(hw, value, 0, 0);
                    }
                    break;
                default: throw new ArgumentException($"unknown sweep axis '{field}'");
            }
        using var doc = JsonDocument.Parse(node.ToJsonString());
        return SettingLoader.ReadProfile(r, doc.RootElement, path, setting.Regimes);
    }

    /// <summary>A setting profile's value on an axis as text, for comparing settings: its own value (<see cref="SweepAxes.OwnValue"/>),
    /// or for widthFactor its model (a factor is relative; the widths it scales are what differ).</summary>
    private static string AxisValue(SettingProfile p, string field) =>
        field == "widthFactor" ? p.Model.ToJson() : SweepAxes.OwnValue(p, field).ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The setting profile's JSON as in a setting file and in a run's canonical JSON (web defaults: camelCase).</summary>
    private static readonly JsonSerializerOptions SettingProfileJson = new(JsonSerializerDefaults.Web);
}
