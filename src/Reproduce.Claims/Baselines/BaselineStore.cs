using System.Text.Json;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Specs;
using Reproduce.Training.Checkpoints;

namespace Reproduce.Claims.Baselines;

/// <summary>
/// Verify's snapshot workflow, done by us: baselines/&lt;profile&gt;/&lt;claim&gt;.json is the reviewed snapshot; a run
/// that differs writes &lt;claim&gt;.received.json beside it (atomically) and fails; <see cref="Accept"/> promotes a
/// received file after review. Nothing else ever writes a verified baseline. Reading validates every field and names
/// the file and JSON path of what is wrong.
/// </summary>
public sealed class BaselineStore(string folder)
{
    public const double RelativeTolerance = 0.2;
    public const double TauTolerance = 0.25;

    // Relaxed escaping: these files are read by people ("Aug+SAM", not "Aug\u002BSAM"); they are never embedded in HTML.
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Folder { get; } = Path.GetFullPath(folder);

    public string PathOf(string profile, string claim) => Path.Combine(Folder, profile, $"{claim}.json");
    public string ReceivedPathOf(string profile, string claim) => Path.Combine(Folder, profile, $"{claim}.received.json");

    /// <summary>A snapshot of an outcome, with tolerance bands of max(20% of |median|, the metric's floor) either side.</summary>
    public static Baseline FromOutcome(ClaimOutcome o, string codeVersion, string review = "") => new()
    {
        Claim = o.ClaimId, Profile = o.Profile, Verdict = o.Verdict, Review = review, CodeVersion = codeVersion,
        Comparisons = [.. o.Comparisons.Select(c => new BaselineComparison(c.Setting, c.Metric, c.Reference, c.Regime, c.Verdict,
            c.ReferenceMedian, c.RegimeMedian, c.RankBiserial, c.P, c.PAdjusted, BandAround(c.ReferenceMedian, c.Metric), BandAround(c.RegimeMedian, c.Metric)))],
        Correlations = [.. o.Correlations.Select(c => new BaselineCorrelation(c.Setting, c.X, c.Y, c.Verdict, c.Tau, new Band(c.Tau - TauTolerance, c.Tau + TauTolerance)))],
    };

    private static Band BandAround(double median, string metric)
    {
        if (double.IsNaN(median)) return new Band(double.NaN, double.NaN);
        double half = Math.Max(RelativeTolerance * Math.Abs(median), MetricCatalog.Get(metric).BandFloor);
        return new Band(median - half, median + half);
    }

    public Baseline? Read(string profile, string claim)
    {
        string path = PathOf(profile, claim);
        return File.Exists(path) ? ReadFile(path) : null;
    }

    public static Baseline ReadFile(string path)
    {
        using var doc = JsonReader.Parse(path);
        var errors = new List<SpecError>();
        var r = new JsonReader(path, errors);
        var root = doc.RootElement;
        if (!r.IsObject(root, "$")) throw new SpecException(errors);
        r.OnlyKnown(root, "$", "format", "claim", "profile", "verdict", "review", "codeVersion", "comparisons", "correlations");
        var format = r.String(root, "$", "format");
        if (format is not null && format != Baseline.FormatName) r.Error("$.format", $"'{format}' is not {Baseline.FormatName}");
        var claim = r.String(root, "$", "claim");
        var profile = r.String(root, "$", "profile");
        var verdicts = Verdicts.All;
        var verdict = r.String(root, "$", "verdict", allowed: verdicts);
        var comparisons = r.Objects(root, "$", "comparisons", (c, p) =>
        {
            r.OnlyKnown(c, p, "setting", "metric", "reference", "regime", "verdict", "referenceMedian", "regimeMedian", "rankBiserial", "p", "pAdjusted", "referenceBand", "regimeBand");
            return new BaselineComparison(r.String(c, p, "setting") ?? "", r.String(c, p, "metric", allowed: MetricCatalog.Names) ?? "",
                r.String(c, p, "reference") ?? "", r.String(c, p, "regime") ?? "", r.String(c, p, "verdict", allowed: verdicts) ?? "",
                NumberOrNaN(r, c, p, "referenceMedian"), NumberOrNaN(r, c, p, "regimeMedian"), NumberOrNaN(r, c, p, "rankBiserial"),
                NumberOrNaN(r, c, p, "p"), NumberOrNaN(r, c, p, "pAdjusted"), ReadBand(r, c, p, "referenceBand"), ReadBand(r, c, p, "regimeBand"));
        });
        var correlations = r.Objects(root, "$", "correlations", (c, p) =>
        {
            r.OnlyKnown(c, p, "setting", "x", "y", "verdict", "tau", "tauBand");
            return new BaselineCorrelation(r.String(c, p, "setting") ?? "", r.String(c, p, "x") ?? "", r.String(c, p, "y") ?? "",
                r.String(c, p, "verdict", allowed: verdicts) ?? "", NumberOrNaN(r, c, p, "tau"), ReadBand(r, c, p, "tauBand"));
        });
        if (claim is not null && Path.GetFileName(path) is var name && name != $"{claim}.json" && name != $"{claim}.received.json")
            r.Error("$.claim", $"'{claim}' does not match the file name '{name}'");
        if (errors.Count > 0) throw new SpecException(errors);
        return new Baseline
        {
            Claim = claim!, Profile = profile!, Verdict = verdict!, Review = r.String(root, "$", "review", required: false) ?? "",
            CodeVersion = r.String(root, "$", "codeVersion", required: false) ?? "", Comparisons = comparisons, Correlations = correlations,
        };
    }

    /// <summary>Numbers may be JSON numbers or the string "NaN" (a median of no data).</summary>
    private static double NumberOrNaN(JsonReader r, JsonElement obj, string path, string name)
    {
        var v = r.Get(obj, path, name, true);
        if (v is null) return double.NaN;
        if (v.Value.ValueKind == JsonValueKind.String && v.Value.GetString() == "NaN") return double.NaN;
        if (v.Value.ValueKind != JsonValueKind.Number) { r.Error($"{path}.{name}", $"expected a number, found {JsonReader.Describe(v.Value.ValueKind)}"); return double.NaN; }
        return v.Value.GetDouble();
    }

    private static Band ReadBand(JsonReader r, JsonElement obj, string path, string name)
    {
        var v = r.Get(obj, path, name, true);
        if (v is null) return new Band(double.NaN, double.NaN);
        if (v.Value.ValueKind != JsonValueKind.Object) { r.Error($"{path}.{name}", $"expected an object {{lower, upper}}, found {JsonReader.Describe(v.Value.ValueKind)}"); return new Band(double.NaN, double.NaN); }
        r.OnlyKnown(v.Value, $"{path}.{name}", "lower", "upper");
        double lo = NumberOrNaN(r, v.Value, $"{path}.{name}", "lower"), hi = NumberOrNaN(r, v.Value, $"{path}.{name}", "upper");
        if (lo > hi) r.Error($"{path}.{name}", $"lower {lo} exceeds upper {hi}");
        return new Band(lo, hi);
    }

    public static string Serialise(Baseline b) => JsonSerializer.Serialize(b, Json) + "\n";

    public string WriteReceived(Baseline b)
    {
        string path = ReceivedPathOf(b.Profile, b.Claim);
        AtomicFile.WriteAllText(path, Serialise(b));
        return path;
    }

    public void DeleteReceived(string profile, string claim)
    {
        string path = ReceivedPathOf(profile, claim);
        if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>Promotes &lt;claim&gt;.received.json to the verified baseline after review; the received file is validated first.</summary>
    public string Accept(string profile, string claim, string review)
    {
        string received = ReceivedPathOf(profile, claim);
        if (!File.Exists(received)) throw new FileNotFoundException($"Nothing to accept: {received} does not exist (run the claims first).", received);
        var b = ReadFile(received) with { Review = review };
        if (b.Claim != claim || b.Profile != profile) throw new SpecException(received, "$.claim", $"holds claim '{b.Claim}' at profile '{b.Profile}', not '{claim}' at '{profile}'");
        AtomicFile.WriteAllText(PathOf(profile, claim), Serialise(b));
        File.Delete(received);
        return PathOf(profile, claim);
    }

    /// <summary>An outcome held against its reviewed baseline: the differences, and the received file written for them.</summary>
    public sealed record CheckResult(Baseline Snapshot, Baseline? Reviewed, IReadOnlyList<string> Differences, string? ReceivedPath)
    {
        public bool Matches => Differences.Count == 0;
    }

    /// <summary>
    /// The snapshot workflow's one step, shared by `reproduce run` and the NUnit claim tests: snapshot the outcome,
    /// compare it with the reviewed baseline, and write &lt;claim&gt;.received.json when they differ (or there is no
    /// baseline yet), deleting a stale received file when they agree. A corrupt baseline throws (file and field named).
    /// </summary>
    public CheckResult Check(ClaimOutcome outcome, string codeVersion)
    {
        var snapshot = FromOutcome(outcome, codeVersion);
        var reviewed = Read(outcome.Profile, outcome.ClaimId);
        IReadOnlyList<string> differences = reviewed is null ? ["no reviewed baseline yet"] : BaselineComparer.Differences(reviewed, snapshot);
        if (differences.Count == 0)
        {
            DeleteReceived(outcome.Profile, outcome.ClaimId);
            return new CheckResult(snapshot, reviewed, differences, null);
        }
        return new CheckResult(snapshot, reviewed, differences, WriteReceived(snapshot));
    }

    public IReadOnlyList<string> PendingReceived(string profile)
    {
        var dir = Path.Combine(Folder, profile);
        return Directory.Exists(dir) ? [.. Directory.GetFiles(dir, "*.received.json").Order(StringComparer.Ordinal)] : [];
    }
}
