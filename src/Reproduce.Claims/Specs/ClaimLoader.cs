using System.Text.Json;
using Reproduce.Claims.Kinds;
using Reproduce.Claims.Metrics;
using Reproduce.Training.Regimes;

namespace Reproduce.Claims.Specs;

/// <summary>
/// Reads and validates claims/*.json against the settings in claims/settings/*.json, the regime registry and the
/// metric registry. Every problem is reported with the file and the JSON path; unknown names list the valid ones.
/// </summary>
public static class ClaimLoader
{
    private static readonly string[] Fields =
        ["id", "statement", "source", "kind", "settings", "reference", "regimes", "metrics", "direction", "test", "family", "support", "premises", "notes", "atLeast", "atMost", "profiles"];

    public static IReadOnlyList<string> Kinds => ClaimKinds.Names;

    public static IReadOnlyList<ClaimSpec> LoadFolder(string folder, IReadOnlyDictionary<string, SettingSpec> settings)
    {
        if (!Directory.Exists(folder)) throw new SpecException(folder, "$", "claims folder not found");
        var claims = new List<ClaimSpec>();
        var errors = new List<SpecError>();
        foreach (var file in Directory.GetFiles(folder, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            try { claims.Add(Load(file, settings)); }
            catch (SpecException e) { errors.AddRange(e.Errors); }
        }
        foreach (var dup in claims.GroupBy(c => c.Id).Where(g => g.Count() > 1))
            errors.Add(new SpecError(dup.Last().File, "$.id", $"id '{dup.Key}' is also used by {dup.First().File}"));
        if (errors.Count > 0) throw new SpecException(errors);
        return claims;
    }

    public static ClaimSpec Load(string file, IReadOnlyDictionary<string, SettingSpec> settings)
    {
        using var doc = JsonReader.Parse(file);
        var errors = new List<SpecError>();
        var r = new JsonReader(file, errors);
        var root = doc.RootElement;
        if (!r.IsObject(root, "$")) throw new SpecException(errors);
        // "reference" was called "baseline" until the word was kept for the reviewed snapshots in baselines/: say so.
        if (root.TryGetProperty("baseline", out _)) r.Error("$.baseline", "the reference regime's field is now 'reference' ('baseline' names the reviewed snapshots in baselines/)");
        r.OnlyKnown(root, "$", [.. Fields, "baseline"]);
        var id = r.String(root, "$", "id");
        if (id is not null)
        {
            if (!ClaimSpec.IsValidId(id)) r.Error("$.id", $"'{id}' must be lower-case letters, digits and dashes");
            else if (Path.GetFileNameWithoutExtension(file) != id) r.Error("$.id", $"'{id}' must equal the file name ('{Path.GetFileNameWithoutExtension(file)}')");
        }
        var statement = r.String(root, "$", "statement");
        ClaimSource? source = null;
        if (r.Get(root, "$", "source", true) is { } s && r.IsObject(s, "$.source"))
        {
            r.OnlyKnown(s, "$.source", "paper", "location", "protocolClaim");
            source = new ClaimSource(r.String(s, "$.source", "paper") ?? "", r.String(s, "$.source", "location") ?? "", r.Integer(s, "$.source", "protocolClaim", required: false, min: 1));
        }
        var kindName = r.String(root, "$", "kind", allowed: Kinds);
        var kind = ClaimKinds.Find(kindName);
        var settingNames = r.Strings(root, "$", "settings", allowed: settings.Keys.Order().ToList());
        var metrics = r.Strings(root, "$", "metrics", allowed: MetricRegistry.Names);
        var reference = r.String(root, "$", "reference", required: kind?.RequiresReference ?? false, allowed: RegimeRegistry.Names);
        var regimes = r.Strings(root, "$", "regimes", required: false, allowed: RegimeRegistry.Names) ?? [];
        // A bound claim has no direction and no test (it holds each seed to an interval); every other kind needs both.
        var direction = r.String(root, "$", "direction", required: kind?.HasDirectionAndTest ?? true, allowed: kind?.Directions ?? Directions.Comparison);
        var test = r.String(root, "$", "test", required: kind?.HasDirectionAndTest ?? true, allowed: ClaimSpec.Tests);
        double? atLeast = r.Number(root, "$", "atLeast", required: false), atMost = r.Number(root, "$", "atMost", required: false);
        var family = r.String(root, "$", "family", allowed: ClaimFamilies.Names);
        var support = r.String(root, "$", "support", allowed: ClaimSpec.Supports);
        var notes = r.String(root, "$", "notes", required: false) ?? "";
        // The profiles every named setting defines (a claim can only run where its settings have a setting profile).
        var known = settingNames?.Where(settings.ContainsKey).Select(n => settings[n].Profiles.Keys).Aggregate((IEnumerable<string>?)null, (a, b) => a is null ? b : a.Intersect(b))?.Order().ToList();
        var profiles = r.Get(root, "$", "profiles", false) is null ? null : r.Strings(root, "$", "profiles", allowed: known ?? []);
        var premises = new List<Premise>();
        if (r.Get(root, "$", "premises", false) is { } ps)
        {
            if (ps.ValueKind != JsonValueKind.Array) r.Error("$.premises", $"must be an array of premises; found {ps.ValueKind}");
            else
            {
                int i = 0;
                foreach (var pe in ps.EnumerateArray())
                {
                    string path = $"$.premises[{i++}]";
                    if (!r.IsObject(pe, path)) continue;
                    r.OnlyKnown(pe, path, "metric", "atLeast", "atMost", "ratioAtMost", "reason");
                    var metric = r.String(pe, path, "metric", allowed: MetricRegistry.Names);
                    double? lo = r.Number(pe, path, "atLeast", required: false), hi = r.Number(pe, path, "atMost", required: false), ratio = r.Number(pe, path, "ratioAtMost", required: false);
                    var reason = r.String(pe, path, "reason");
                    int bounds = (lo is null ? 0 : 1) + (hi is null ? 0 : 1) + (ratio is null ? 0 : 1);
                    if (bounds != 1) r.Error(path, "names exactly one of atLeast, atMost, ratioAtMost");
                    if (ratio is < 1) r.Error($"{path}.ratioAtMost", $"{ratio} must be at least 1 (the larger median over the smaller)");
                    if (metric is not null && reason is not null && bounds == 1) premises.Add(new Premise(metric, lo, hi, ratio, reason));
                }
            }
        }

        // Cross-field rules: the kind's own (its metrics, settings, regimes and test), then those every claim meets.
        kind?.Check(new ClaimDraft(root, kindName, settingNames, metrics, reference, regimes, direction, test, family, atLeast, atMost), r);
        // A test that belongs to one kind only is refused on every other kind with its owner's name.
        if (test is not null && (kind is null || !kind.Tests.Contains(test)) && ClaimKinds.All.Where(k => k.Tests.Contains(test)).ToList() is [var owner])
            r.Error("$.test", $"{test} is the test of a {owner.Name} claim only");
        if (reference is not null && regimes.Contains(reference)) r.Error("$.regimes", $"'{reference}' is the reference and cannot also be listed among the regimes");
        if (settingNames is not null)
            for (int i = 0; i < settingNames.Count; i++)
            {
                var setting = settings[settingNames[i]];
                foreach (var regime in regimes.Append(reference).OfType<string>())
                    if (!setting.Regimes.Contains(regime))
                        r.Error($"$.settings[{i}]", $"setting '{setting.Name}' does not train regime '{regime}' (it trains {string.Join(", ", setting.Regimes)})");
            }
        if (kind is null || !kind.HoldsToInterval)
        {
            if (atLeast is not null) r.Error("$.atLeast", "only a bound claim holds values to an interval (premises have their own atLeast)");
            if (atMost is not null) r.Error("$.atMost", "only a bound claim holds values to an interval (premises have their own atMost)");
            if (family == "exact") r.Error("$.family", "family 'exact' holds bound claims only (it has no multiple-testing list)");
        }

        if (errors.Count > 0) throw new SpecException(errors);
        return new ClaimSpec
        {
            Id = id!, File = file, Statement = statement!, Source = source!, Kind = kind!, Settings = settingNames!,
            Reference = reference, Regimes = regimes, Metrics = metrics!, Direction = direction ?? "", Test = test ?? "", Family = family!, AtLeast = atLeast, AtMost = atMost,
            Support = support!, Notes = notes, Premises = premises, Profiles = profiles,
        };
    }
}
