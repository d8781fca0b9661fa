using NUnit.Framework;
using Microsoft.Data.Sqlite;

namespace Reproduce.Tests.CrashSafety;

/// <summary>
/// Everything a result store holds that an uninterrupted run determines, read straight from its SQLite tables: every
/// run's recipe and outcome, every metric's value as its IEEE bits with its details, every run's stored test
/// predictions as raw bytes, and every stored Hessian spectrum (nodes and weights as round-trippable JSON). Left out: wall-clock seconds, the creation time and the provenance (when and where it
/// ran), which differ between any two runs.
/// </summary>
public sealed class StoreSnapshot
{
    private StoreSnapshot(string path) => Path = path;

    public string Path { get; }
    /// <summary>Run key → key, setting, profile, regime, seed, recipe, diverged, step, train loss and accuracy bits, epochs.</summary>
    public SortedDictionary<string, string> Runs { get; } = new(StringComparer.Ordinal);
    /// <summary>"run key / metric" → value bits (and the value) and details.</summary>
    public SortedDictionary<string, string> Metrics { get; } = new(StringComparer.Ordinal);
    /// <summary>Run key → nodes, weights and details of its stored Hessian spectrum.</summary>
    public SortedDictionary<string, string> Spectra { get; } = new(StringComparer.Ordinal);
    /// <summary>Run key → rows, classes, float32 probabilities and int64 labels as stored.</summary>
    public SortedDictionary<string, (long Rows, long Classes, byte[] Probabilities, byte[] Labels)> Predictions { get; } = new(StringComparer.Ordinal);
    /// <summary>SQLite's own verdict on the file ("ok").</summary>
    public string Integrity { get; private set; } = "";

    /// <summary>Metrics of one run measured on its own model (per-group ones, computed over all seeds at the end, left out).</summary>
    public int MeasuredMetricsOf(string runKey) => Metrics.Keys.Count(k => k.StartsWith(runKey + " / ", StringComparison.Ordinal)
        && !Reproduce.Claims.Metrics.MetricRegistry.Get(k[(runKey.Length + 3)..]).PerGroup);

    public static StoreSnapshot Read(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"no result store at {path}");
        var s = new StoreSnapshot(path);
        // No pooling: a pooled connection would keep the file (and its -wal) open after the test is done with it.
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        c.Open();
        s.Integrity = string.Join("; ", Rows(c, "PRAGMA integrity_check").Select(r => r[0]));
        foreach (var r in Rows(c, "SELECT key, setting, profile, regime, seed, spec_json, diverged, diverged_at, final_train_loss, final_train_accuracy, epochs_json FROM runs"))
            s.Runs[(string)r[0]] = string.Join(" | ", r.Select(Text));
        foreach (var r in Rows(c, "SELECT run_key, metric, value, details_json FROM metrics"))
            s.Metrics[$"{r[0]} / {r[1]}"] = $"{Text(r[2])} {r[3]}";
        foreach (var r in Rows(c, "SELECT run_key, nodes_json, weights_json, details_json FROM spectra"))
            s.Spectra[(string)r[0]] = $"{r[1]} | {r[2]} | {r[3]}";
        foreach (var r in Rows(c, "SELECT run_key, rows, classes, probabilities, labels FROM predictions"))
            s.Predictions[(string)r[0]] = ((long)r[1], (long)r[2], (byte[])r[3], (byte[])r[4]);
        return s;
    }

    private static List<object[]> Rows(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object[]>();
        while (reader.Read())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Doubles as their bits (so -0 and 0, or two NaN payloads, differ), with the value beside them for people.</summary>
    private static string Text(object v) => v switch
    {
        DBNull => "NULL",
        double d => $"{BitConverter.DoubleToInt64Bits(d):X16} ({d:R})",
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Every way this store differs from <paramref name="expected"/> (empty: bit for bit the same).</summary>
    public IReadOnlyList<string> DifferencesFrom(StoreSnapshot expected)
    {
        var d = new List<string>();
        if (Integrity != "ok") d.Add($"integrity_check: {Integrity}");
        Compare("runs", expected.Runs, Runs, (a, b) => a == b, d);
        Compare("metrics", expected.Metrics, Metrics, (a, b) => a == b, d);
        Compare("spectra", expected.Spectra, Spectra, (a, b) => a == b, d);
        Compare("predictions", expected.Predictions, Predictions,
            (a, b) => a.Rows == b.Rows && a.Classes == b.Classes && a.Probabilities.AsSpan().SequenceEqual(b.Probabilities) && a.Labels.AsSpan().SequenceEqual(b.Labels), d);
        return d;
    }

    private static void Compare<T>(string table, SortedDictionary<string, T> expected, SortedDictionary<string, T> actual, Func<T, T, bool> same, List<string> d)
    {
        foreach (var (key, e) in expected)
            if (!actual.TryGetValue(key, out var a)) d.Add($"{table}: {key} missing");
            else if (!same(e, a)) d.Add($"{table}: {key} differs: expected {Show(e)}, found {Show(a)}");
        foreach (var key in actual.Keys.Where(k => !expected.ContainsKey(k))) d.Add($"{table}: {key} is extra");
    }

    private static string Show<T>(T v) => v is ValueTuple<long, long, byte[], byte[]> p
        ? $"{p.Item1} x {p.Item2}, {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(p.Item3))[..16]} / {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(p.Item4))[..16]}"
        : $"'{v}'";
}
