using System.Text.Json;
using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
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
    // Relaxed escaping: these files are read by people ("Aug+SAM", not "Aug\u002BSAM"); they are never embedded in HTML.
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Folder { get; } = Path.GetFullPath(folder);

    public string PathOf(string profile, string claim) => Path.Combine(Folder, profile, $"{claim}.json");
    public string ReceivedPathOf(string profile, string claim) => Path.Combine(Folder, profile, $"{claim}.received.json");

    /// <summary>A snapshot of an outcome: per-seed values, statistics and verdicts, stamped with code version and environment.</summary>
    public static Baseline FromOutcome(ClaimOutcome o, string codeVersion, ExecutionEnvironment environment, string review = "") => new()
    {
        Claim = o.ClaimId, Profile = o.Profile, Verdict = o.Verdict, VerdictNote = o.VerdictNote, Review = review, CodeVersion = codeVersion, Environment = environment,
        Comparisons = [.. o.Comparisons.Select(c => new BaselineComparison
        {
            Setting = c.Setting, Metric = c.Metric, Reference = c.Reference, Regime = c.Regime, Expected = c.Expected, Verdict = c.Verdict,
            Seeds = c.Seeds, ReferenceValues = c.ReferenceValues, RegimeValues = c.RegimeValues,
            ReferenceMedian = c.ReferenceMedian, RegimeMedian = c.RegimeMedian, MedianDifference = c.MedianDifference, Sign = c.Sign,
            MedianDifferenceInterval = new Interval(c.MedianDifferenceLower, c.MedianDifferenceUpper), RankBiserial = c.RankBiserial,
            RankBiserialInterval = new Interval(c.RankBiserialLower, c.RankBiserialUpper),
            P = c.P, POpposite = c.POpposite, PTwoSided = c.PTwoSided, PAdjusted = c.PAdjusted,
            UnconvergedReferenceSeeds = c.UnconvergedReferenceSeeds, UnconvergedRegimeSeeds = c.UnconvergedRegimeSeeds,
        })],
        Correlations = [.. o.Correlations.Select(c => new BaselineCorrelation
        {
            Setting = c.Setting, X = c.X, Y = c.Y, Expected = c.Expected, Verdict = c.Verdict, Tau = c.Tau, TauInterval = new Interval(c.TauLower, c.TauUpper),
            P = c.P, POpposite = c.POpposite, PTwoSided = c.PTwoSided, PAdjusted = c.PAdjusted,
            Points = [.. c.Points.Select(p => new BaselinePoint(p.Regime, p.Seed, p.X, p.Y, c.Rival is null ? null : p.Rival))],
            Rival = c.Rival, RivalTau = c.Rival is null ? null : c.RivalTau, TauDifference = c.Rival is null ? null : c.TauDifference,
            TauDifferenceStandardError = c.Rival is null ? null : c.TauDifferenceStandardError,
            TauDifferenceInterval = c.Rival is null ? null : new Interval(c.TauDifferenceLower, c.TauDifferenceUpper),
        })],
        Bounds = o.Bounds.Count == 0 ? null : [.. o.Bounds.Select(b => new BaselineBound
        {
            Setting = b.Setting, Metric = b.Metric, Regime = b.Regime, AtLeast = b.AtLeast, AtMost = b.AtMost, Verdict = b.Verdict,
            Seeds = b.Seeds, Values = b.Values, OutsideSeeds = b.OutsideSeeds,
        })],
    };

    public Baseline? Read(string profile, string claim)
    {
        string path = PathOf(profile, claim);
        return File.Exists(path) ? ReadFile(path) : null;
    }

    /// <summary>Reads and validates a baseline file; every problem is reported with the file and its JSON path.</summary>
    public static Baseline ReadFile(string path)
    {
        using var doc = JsonReader.Parse(path);
        var errors = new List<SpecError>();
        var r = new JsonReader(path, errors);
        var root = doc.RootElement;
        if (!r.IsObject(root, "$")) throw new SpecException(errors);
        var format = r.String(root, "$", "format");
        if (format is not null && format != Baseline.FormatName)
        {
            // An older format has other fields: report only this, not a cascade of unknown-field errors.
            r.Error("$.format", $"'{format}' is not {Baseline.FormatName}; re-record the baseline (`reproduce run`, then `reproduce baselines accept`)");
            throw new SpecException(errors);
        }
        r.OnlyKnown(root, "$", "format", "claim", "profile", "verdict", "verdictNote", "review", "codeVersion", "environment", "comparisons", "correlations", "bounds");
        var claim = r.String(root, "$", "claim");
        var profile = r.String(root, "$", "profile");
        var verdicts = Verdicts.All;
        var verdict = r.String(root, "$", "verdict", allowed: verdicts);
        var environment = ReadEnvironment(r, root);
        var comparisons = r.Objects(root, "$", "comparisons", (c, p) =>
        {
            r.OnlyKnown(c, p, "setting", "metric", "reference", "regime", "expected", "verdict", "seeds", "referenceValues", "regimeValues", "referenceMedian", "regimeMedian",
                "medianDifference", "sign", "medianDifferenceInterval", "rankBiserial", "rankBiserialInterval", "p", "pOpposite", "pTwoSided", "pAdjusted", "unconvergedReferenceSeeds", "unconvergedRegimeSeeds");
            var seeds = Integers(r, c, p, "seeds", true);
            var refValues = Numbers(r, c, p, "referenceValues");
            var regValues = Numbers(r, c, p, "regimeValues");
            if (refValues.Count != seeds.Count || regValues.Count != seeds.Count)
                r.Error(p, $"{seeds.Count} seeds but {refValues.Count} reference and {regValues.Count} regime values");
            return new BaselineComparison
            {
                Setting = r.String(c, p, "setting") ?? "", Metric = r.String(c, p, "metric", allowed: MetricRegistry.Names) ?? "",
                Reference = r.String(c, p, "reference") ?? "", Regime = r.String(c, p, "regime") ?? "",
                Expected = r.String(c, p, "expected", allowed: Directions.Comparison) ?? "", Verdict = r.String(c, p, "verdict", allowed: verdicts) ?? "",
                Seeds = seeds, ReferenceValues = refValues, RegimeValues = regValues,
                ReferenceMedian = NumberOrNaN(r, c, p, "referenceMedian"), RegimeMedian = NumberOrNaN(r, c, p, "regimeMedian"),
                MedianDifference = NumberOrNaN(r, c, p, "medianDifference"), Sign = r.Integer(c, p, "sign", min: -1, max: 1) ?? 0,
                MedianDifferenceInterval = ReadInterval(r, c, p, "medianDifferenceInterval"), RankBiserial = NumberOrNaN(r, c, p, "rankBiserial"),
                RankBiserialInterval = ReadInterval(r, c, p, "rankBiserialInterval", required: false),
                P = NumberOrNaN(r, c, p, "p"), POpposite = NumberOrNaN(r, c, p, "pOpposite"),
                PTwoSided = NumberOrNaN(r, c, p, "pTwoSided"), PAdjusted = NumberOrNaN(r, c, p, "pAdjusted"),
                UnconvergedReferenceSeeds = Integers(r, c, p, "unconvergedReferenceSeeds", false), UnconvergedRegimeSeeds = Integers(r, c, p, "unconvergedRegimeSeeds", false),
            };
        });
        var correlations = r.Objects(root, "$", "correlations", (c, p) =>
        {
            r.OnlyKnown(c, p, "setting", "x", "y", "expected", "verdict", "tau", "tauInterval", "p", "pOpposite", "pTwoSided", "pAdjusted", "points",
                "rival", "rivalTau", "tauDifference", "tauDifferenceStandardError", "tauDifferenceInterval");
            string? rival = r.Get(c, p, "rival", false) is null ? null : r.String(c, p, "rival", allowed: MetricRegistry.Names);
            var points = r.Objects(c, p, "points", (q, pp) =>
            {
                r.OnlyKnown(q, pp, "regime", "seed", "x", "y", "rival");
                return new BaselinePoint(r.String(q, pp, "regime") ?? "", r.Integer(q, pp, "seed", min: 0) ?? 0, NumberOrNaN(r, q, pp, "x"), NumberOrNaN(r, q, pp, "y"),
                    rival is null ? null : NumberOrNaN(r, q, pp, "rival"));
            });
            return new BaselineCorrelation
            {
                Setting = r.String(c, p, "setting") ?? "", X = r.String(c, p, "x", allowed: [.. MetricRegistry.Names, "level"]) ?? "", Y = r.String(c, p, "y", allowed: MetricRegistry.Names) ?? "",
                Expected = r.String(c, p, "expected", allowed: Directions.Correlation) ?? "", Verdict = r.String(c, p, "verdict", allowed: verdicts) ?? "",
                Tau = NumberOrNaN(r, c, p, "tau"), TauInterval = ReadInterval(r, c, p, "tauInterval"),
                P = NumberOrNaN(r, c, p, "p"), POpposite = NumberOrNaN(r, c, p, "pOpposite"),
                PTwoSided = NumberOrNaN(r, c, p, "pTwoSided"), PAdjusted = NumberOrNaN(r, c, p, "pAdjusted"), Points = points,
                Rival = rival, RivalTau = rival is null ? null : NumberOrNaN(r, c, p, "rivalTau"), TauDifference = rival is null ? null : NumberOrNaN(r, c, p, "tauDifference"),
                TauDifferenceStandardError = rival is null ? null : NumberOrNaN(r, c, p, "tauDifferenceStandardError"),
                TauDifferenceInterval = rival is null ? null : ReadInterval(r, c, p, "tauDifferenceInterval"),
            };
        });
        IReadOnlyList<BaselineBound>? bounds = r.Get(root, "$", "bounds", false) is null ? null : r.Objects(root, "$", "bounds", (c, p) =>
        {
            r.OnlyKnown(c, p, "setting", "metric", "regime", "atLeast", "atMost", "verdict", "seeds", "values", "outsideSeeds");
            var seeds = Integers(r, c, p, "seeds", true);
            var values = Numbers(r, c, p, "values");
            if (values.Count != seeds.Count) r.Error(p, $"{seeds.Count} seeds but {values.Count} values");
            double? lo = r.Number(c, p, "atLeast", required: false), hi = r.Number(c, p, "atMost", required: false);
            if (lo is null && hi is null) r.Error(p, "a bound names atLeast, atMost or both");
            if (lo > hi) r.Error($"{p}.atMost", $"{hi} is below atLeast {lo}: the interval is empty");
            return new BaselineBound
            {
                Setting = r.String(c, p, "setting") ?? "", Metric = r.String(c, p, "metric", allowed: MetricRegistry.Names) ?? "", Regime = r.String(c, p, "regime") ?? "",
                AtLeast = lo, AtMost = hi, Verdict = r.String(c, p, "verdict", allowed: verdicts) ?? "",
                Seeds = seeds, Values = values, OutsideSeeds = Integers(r, c, p, "outsideSeeds", true),
            };
        });
        if (claim is not null && Path.GetFileName(path) is var name && name != $"{claim}.json" && name != $"{claim}.received.json")
            r.Error("$.claim", $"'{claim}' does not match the file name '{name}'");
        if (errors.Count > 0) throw new SpecException(errors);
        return new Baseline
        {
            Claim = claim!, Profile = profile!, Verdict = verdict!, VerdictNote = r.String(root, "$", "verdictNote", required: false) ?? "",
            Review = r.String(root, "$", "review", required: false) ?? "", CodeVersion = r.String(root, "$", "codeVersion", required: false) ?? "",
            Environment = environment, Comparisons = comparisons, Correlations = correlations, Bounds = bounds,
        };
    }

    private static ExecutionEnvironment ReadEnvironment(JsonReader r, JsonElement root)
    {
        var v = r.Get(root, "$", "environment", true);
        if (v is null || !r.IsObject(v.Value, "$.environment")) return new ExecutionEnvironment("", "", "", 0, 0);
        var e = v.Value;
        r.OnlyKnown(e, "$.environment", "torchSharp", "cpu", "mkl", "device", "threads", "workers");
        return new ExecutionEnvironment(r.String(e, "$.environment", "torchSharp") ?? "", r.String(e, "$.environment", "cpu") ?? "",
            r.String(e, "$.environment", "device", allowed: ["cpu", "cuda"]) ?? "", r.Integer(e, "$.environment", "threads", min: 1) ?? 0, r.Integer(e, "$.environment", "workers", min: 1) ?? 0)
        {
            // Baselines recorded before the MKL override existed carry no "mkl": they never equal a current environment.
            Mkl = r.String(e, "$.environment", "mkl", required: false) ?? "",
        };
    }

    /// <summary>Numbers may be JSON numbers or the string "NaN" (a median of no data).</summary>
    private static double NumberOrNaN(JsonReader r, JsonElement obj, string path, string name)
    {
        var v = r.Get(obj, path, name, true);
        if (v is null) return double.NaN;
        return NumberOrNaN(r, v.Value, $"{path}.{name}");
    }

    private static double NumberOrNaN(JsonReader r, JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.String && v.GetString() == "NaN") return double.NaN;
        if (v.ValueKind != JsonValueKind.Number) { r.Error(path, $"expected a number, found {JsonReader.Describe(v.ValueKind)}"); return double.NaN; }
        return v.GetDouble();
    }

    private static List<double> Numbers(JsonReader r, JsonElement obj, string path, string name)
    {
        var list = new List<double>();
        var v = r.Get(obj, path, name, true);
        if (v is null) return list;
        if (v.Value.ValueKind != JsonValueKind.Array) { r.Error($"{path}.{name}", $"expected an array of numbers, found {JsonReader.Describe(v.Value.ValueKind)}"); return list; }
        int i = 0;
        foreach (var item in v.Value.EnumerateArray()) list.Add(NumberOrNaN(r, item, $"{path}.{name}[{i++}]"));
        return list;
    }

    private static List<int> Integers(JsonReader r, JsonElement obj, string path, string name, bool required)
    {
        var list = new List<int>();
        var v = r.Get(obj, path, name, required);
        if (v is null) return list;
        if (v.Value.ValueKind != JsonValueKind.Array) { r.Error($"{path}.{name}", $"expected an array of integers, found {JsonReader.Describe(v.Value.ValueKind)}"); return list; }
        int i = 0;
        foreach (var item in v.Value.EnumerateArray())
        {
            string p = $"{path}.{name}[{i++}]";
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int k) && k >= 0) list.Add(k);
            else r.Error(p, $"expected a non-negative integer, found {(item.ValueKind == JsonValueKind.Number ? item.GetRawText() : JsonReader.Describe(item.ValueKind))}");
        }
        return list;
    }

    private static Interval ReadInterval(JsonReader r, JsonElement obj, string path, string name, bool required = true)
    {
        var v = r.Get(obj, path, name, required);
        if (v is null) return Interval.None;
        if (v.Value.ValueKind != JsonValueKind.Object) { r.Error($"{path}.{name}", $"expected an object {{lower, upper}}, found {JsonReader.Describe(v.Value.ValueKind)}"); return Interval.None; }
        r.OnlyKnown(v.Value, $"{path}.{name}", "lower", "upper");
        double lo = NumberOrNaN(r, v.Value, $"{path}.{name}", "lower"), hi = NumberOrNaN(r, v.Value, $"{path}.{name}", "upper");
        if (lo > hi) r.Error($"{path}.{name}", $"lower {lo} exceeds upper {hi}");
        return new Interval(lo, hi);
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
    public sealed record CheckResult(Baseline Snapshot, Baseline? Reviewed, BaselineRule Rule, IReadOnlyList<string> Differences, string? ReceivedPath)
    {
        public bool Matches => Differences.Count == 0;
    }

    /// <summary>
    /// The snapshot workflow's one step, shared by `reproduce run` and the NUnit claim tests: snapshot the outcome,
    /// compare it with the reviewed baseline, and write &lt;claim&gt;.received.json when they differ (or there is no
    /// baseline yet), deleting a stale received file when they agree. The rule is exact when the outcome was produced
    /// in the baseline's execution environment and statistical otherwise (<see cref="BaselineRule"/>). A corrupt
    /// baseline throws (file and field named).
    /// </summary>
    public CheckResult Check(ClaimOutcome outcome, string codeVersion, ExecutionEnvironment environment)
    {
        var snapshot = FromOutcome(outcome, codeVersion, environment);
        var reviewed = Read(outcome.Profile, outcome.ClaimId);
        var rule = reviewed is null ? BaselineRule.Exact : BaselineComparer.RuleFor(reviewed, environment);
        IReadOnlyList<string> differences = reviewed is null ? ["no reviewed baseline yet"] : BaselineComparer.Differences(reviewed, snapshot, rule);
        if (differences.Count == 0)
        {
            DeleteReceived(outcome.Profile, outcome.ClaimId);
            return new CheckResult(snapshot, reviewed, rule, differences, null);
        }
        return new CheckResult(snapshot, reviewed, rule, differences, WriteReceived(snapshot));
    }

    public IReadOnlyList<string> PendingReceived(string profile)
    {
        var dir = Path.Combine(Folder, profile);
        return Directory.Exists(dir) ? [.. Directory.GetFiles(dir, "*.received.json").Order(StringComparer.Ordinal)] : [];
    }
}
