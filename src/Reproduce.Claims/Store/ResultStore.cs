using Microsoft.Data.Sqlite;

namespace Reproduce.Claims.Store;

/// <summary>
/// Runs, metrics, test-set predictions and Hessian spectra in an embedded SQLite database (WAL journal, so a reader
/// never blocks the writer and a killed process loses at most the transaction in flight). Runs are keyed by the content
/// hash of what determines them (<see cref="Runner.RunSpec.Key"/>), so re-runs are incremental and resumable. A run and
/// its predictions are written in one transaction; each metric and each spectrum in its own, as soon as it exists.
/// All access goes through one connection under a lock (parallel workers share it).
/// <para>Format history, all under schema version 1 (additive, so every store stays readable by this build and the
/// previous one): the spectra table was added (created on open when missing); the runs columns final_train_loss and
/// final_train_accuracy are no longer written (NULL in new rows) or read: they held the same numbers as the always
/// measured metrics train_loss and train_accuracy (checked bit for bit on all 190 runs of the default profile), which
/// are now the only source. The columns stay so that older stores and older builds keep working.</para>
/// </summary>
public sealed class ResultStore : IDisposable
{
    public const int SchemaVersion = 1;
    private readonly SqliteConnection connection;
    private readonly object gate = new();

    public ResultStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute("PRAGMA journal_mode=WAL;");
            Execute("PRAGMA busy_timeout=10000;");
            Execute("""
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS runs (
                    key TEXT PRIMARY KEY, setting TEXT NOT NULL, profile TEXT NOT NULL, regime TEXT NOT NULL, seed INTEGER NOT NULL,
                    spec_json TEXT NOT NULL, diverged INTEGER NOT NULL, diverged_at INTEGER, final_train_loss REAL, final_train_accuracy REAL,
                    epochs_json TEXT NOT NULL, seconds REAL NOT NULL, provenance_json TEXT NOT NULL, created TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS metrics (
                    run_key TEXT NOT NULL REFERENCES runs(key), metric TEXT NOT NULL, value REAL NOT NULL, details_json TEXT NOT NULL,
                    seconds REAL NOT NULL, PRIMARY KEY (run_key, metric));
                CREATE TABLE IF NOT EXISTS predictions (
                    run_key TEXT PRIMARY KEY REFERENCES runs(key), rows INTEGER NOT NULL, classes INTEGER NOT NULL,
                    probabilities BLOB NOT NULL, labels BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS spectra (
                    run_key TEXT PRIMARY KEY REFERENCES runs(key), nodes_json TEXT NOT NULL, weights_json TEXT NOT NULL, details_json TEXT NOT NULL,
                    seconds REAL NOT NULL);
                """);
            var version = Scalar("SELECT value FROM meta WHERE key = 'schema_version'");
            if (version is null) Execute($"INSERT INTO meta(key, value) VALUES ('schema_version', '{SchemaVersion}')");
            else if (version != SchemaVersion.ToString())
                throw new InvalidDataException($"{Path}: result store schema version {version}, this build reads {SchemaVersion}. Use a new output folder.");
        }
        catch (Exception e)
        {
            // Close on every failure: a connection left open keeps its locks, and the next open of the file waits on them.
            connection.Dispose();
            if (e is SqliteException) throw new InvalidDataException($"{Path}: not a usable result store ({e.Message}).", e);
            throw;
        }
    }

    public string Path { get; }

    private void Execute(string sql)
    {
        using var c = connection.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private string? Scalar(string sql)
    {
        using var c = connection.CreateCommand();
        c.CommandText = sql;
        return c.ExecuteScalar() switch
        {
            null or DBNull => null,
            string s => s,
            var other => throw new InvalidDataException($"{Path}: meta.value of 'schema_version' holds {Describe(other)}, not text."),
        };
    }

    /// <summary>
    /// Runs a query over a table; a file that is not the store this build writes (a missing column, a corrupt page) is an
    /// error naming the file and the table, never a SqliteException.
    /// </summary>
    private T Query<T>(string table, Func<T> read)
    {
        try { return read(); }
        catch (SqliteException e) { throw new InvalidDataException($"{Path}: table '{table}' cannot be read ({e.Message}).", e); }
    }

    // Typed column readers. SQLite does not enforce declared types (a foreign or damaged file may hold text in a REAL
    // column, and GetDouble would silently read 'abc' as 0): each value must have the storage class the schema says.
    private static string Describe(object? v) => v switch
    {
        null or DBNull => "NULL", long l => $"the integer {l}", double d => $"the real {d}", string s => $"the text '{(s.Length > 40 ? s[..40] + "..." : s)}'",
        byte[] b => $"a blob of {b.Length} bytes", _ => v.GetType().Name,
    };

    private InvalidDataException Bad(SqliteDataReader r, int i, string table, string row, string expected) =>
        new($"{Path}: {table}.{r.GetName(i)} of {row} holds {Describe(r.GetValue(i))}, expected {expected}.");

    private string Text(SqliteDataReader r, int i, string table, string row) => r.GetValue(i) as string ?? throw Bad(r, i, table, row, "text");

    private long? OptionalInteger(SqliteDataReader r, int i, string table, string row, long min = long.MinValue, long max = long.MaxValue) => r.GetValue(i) switch
    {
        DBNull => null,
        long l when l >= min && l <= max => l,
        _ => throw Bad(r, i, table, row, $"an integer in [{min}, {max}]"),
    };

    private long Integer(SqliteDataReader r, int i, string table, string row, long min = long.MinValue, long max = long.MaxValue) =>
        OptionalInteger(r, i, table, row, min, max) ?? throw Bad(r, i, table, row, $"an integer in [{min}, {max}]");

    private double? OptionalReal(SqliteDataReader r, int i, string table, string row) => r.GetValue(i) switch
    {
        DBNull => null,
        double d => d,
        long l => l,
        _ => throw Bad(r, i, table, row, "a number"),
    };

    private double Real(SqliteDataReader r, int i, string table, string row) => OptionalReal(r, i, table, row) ?? throw Bad(r, i, table, row, "a number");

    private byte[] Blob(SqliteDataReader r, int i, string table, string row) => r.GetValue(i) as byte[] ?? throw Bad(r, i, table, row, "a blob");

    public void SaveRun(StoredRun run, float[]? probabilities, long[]? labels, int classes)
    {
        lock (gate)
        {
            using var tx = connection.BeginTransaction();
            using (var c = connection.CreateCommand())
            {
                c.Transaction = tx;
                c.CommandText = """
                    INSERT OR REPLACE INTO runs VALUES ($key, $setting, $profile, $regime, $seed, $spec, $diverged, $at, $loss, $acc, $epochs, $seconds, $prov, $created)
                    """;
                c.Parameters.AddWithValue("$key", run.Key);
                c.Parameters.AddWithValue("$setting", run.Setting);
                c.Parameters.AddWithValue("$profile", run.Profile);
                c.Parameters.AddWithValue("$regime", run.Regime);
                c.Parameters.AddWithValue("$seed", run.Seed);
                c.Parameters.AddWithValue("$spec", run.SpecJson);
                c.Parameters.AddWithValue("$diverged", run.Diverged ? 1 : 0);
                c.Parameters.AddWithValue("$at", (object?)run.DivergedAtStep ?? DBNull.Value);
                // final_train_loss, final_train_accuracy: no longer written (the metrics train_loss, train_accuracy hold them).
                c.Parameters.AddWithValue("$loss", DBNull.Value);
                c.Parameters.AddWithValue("$acc", DBNull.Value);
                c.Parameters.AddWithValue("$epochs", run.EpochsJson);
                c.Parameters.AddWithValue("$seconds", run.Seconds);
                c.Parameters.AddWithValue("$prov", run.ProvenanceJson);
                c.Parameters.AddWithValue("$created", DateTime.UtcNow.ToString("O"));
                c.ExecuteNonQuery();
            }
            if (probabilities is not null && labels is not null)
            {
                using var c = connection.CreateCommand();
                c.Transaction = tx;
                c.CommandText = "INSERT OR REPLACE INTO predictions VALUES ($key, $rows, $classes, $p, $y)";
                c.Parameters.AddWithValue("$key", run.Key);
                c.Parameters.AddWithValue("$rows", labels.Length);
                c.Parameters.AddWithValue("$classes", classes);
                c.Parameters.AddWithValue("$p", System.Runtime.InteropServices.MemoryMarshal.AsBytes(probabilities.AsSpan()).ToArray());
                c.Parameters.AddWithValue("$y", System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()).ToArray());
                c.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    public void SaveMetric(StoredMetric metric)
    {
        if (!double.IsFinite(metric.Value)) throw new ArgumentException($"Metric {metric.Metric} of run {metric.RunKey} is {metric.Value}; non-finite values are not stored.");
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = "INSERT OR REPLACE INTO metrics VALUES ($key, $metric, $value, $details, $seconds)";
            c.Parameters.AddWithValue("$key", metric.RunKey);
            c.Parameters.AddWithValue("$metric", metric.Metric);
            c.Parameters.AddWithValue("$value", metric.Value);
            c.Parameters.AddWithValue("$details", metric.DetailsJson);
            c.Parameters.AddWithValue("$seconds", metric.Seconds);
            c.ExecuteNonQuery();
        }
    }

    public StoredRun? GetRun(string key) => Runs("WHERE key = $key", ("$key", key)).FirstOrDefault();

    public IReadOnlyList<StoredRun> AllRuns() => Runs("ORDER BY setting, profile, regime, seed, key");

    private List<StoredRun> Runs(string where, params (string, object)[] parameters)
    {
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = $"SELECT key, setting, profile, regime, seed, spec_json, diverged, diverged_at, epochs_json, seconds, provenance_json FROM runs {where}";
            foreach (var (n, v) in parameters) c.Parameters.AddWithValue(n, v);
            return Query("runs", () =>
            {
                using var r = c.ExecuteReader();
                var list = new List<StoredRun>();
                const string T = "runs";
                for (int n = 0; r.Read(); n++)
                {
                    string row = $"row {n}";
                    string key = Text(r, 0, T, row);
                    row = $"run {key}";
                    list.Add(new StoredRun(key, Text(r, 1, T, row), Text(r, 2, T, row), Text(r, 3, T, row), (int)Integer(r, 4, T, row, int.MinValue, int.MaxValue),
                        Text(r, 5, T, row), Integer(r, 6, T, row, 0, 1) == 1, OptionalInteger(r, 7, T, row), Text(r, 8, T, row), Real(r, 9, T, row), Text(r, 10, T, row)));
                }
                return list;
            });
        }
    }

    public IReadOnlyDictionary<string, StoredMetric> Metrics(string runKey)
    {
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = "SELECT run_key, metric, value, details_json, seconds FROM metrics WHERE run_key = $key";
            c.Parameters.AddWithValue("$key", runKey);
            return Query("metrics", () =>
            {
                using var r = c.ExecuteReader();
                var d = new Dictionary<string, StoredMetric>();
                for (int n = 0; r.Read(); n++) { var m = ReadMetric(r, n); d[m.Metric] = m; }
                return d;
            });
        }
    }

    public IReadOnlyList<StoredMetric> AllMetrics()
    {
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = "SELECT run_key, metric, value, details_json, seconds FROM metrics ORDER BY run_key, metric";
            return Query("metrics", () =>
            {
                using var r = c.ExecuteReader();
                var list = new List<StoredMetric>();
                for (int n = 0; r.Read(); n++) list.Add(ReadMetric(r, n));
                return list;
            });
        }
    }

    private StoredMetric ReadMetric(SqliteDataReader r, int n)
    {
        const string T = "metrics";
        string row = $"row {n}";
        string runKey = Text(r, 0, T, row), metric = Text(r, 1, T, row);
        row = $"run {runKey}, metric {metric}";
        return new StoredMetric(runKey, metric, Real(r, 2, T, row), Text(r, 3, T, row), Real(r, 4, T, row));
    }

    /// <summary>Stored test-set probabilities (rows x classes, float32) and labels of a run, or null.</summary>
    public (float[] Probabilities, long[] Labels, int Classes)? Predictions(string runKey)
    {
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = "SELECT rows, classes, probabilities, labels FROM predictions WHERE run_key = $key";
            c.Parameters.AddWithValue("$key", runKey);
            return Query("predictions", () =>
            {
                using var r = c.ExecuteReader();
                if (!r.Read()) return ((float[], long[], int)?)null;
                const string T = "predictions";
                string row = $"run {runKey}";
                long rows = Integer(r, 0, T, row, 0, int.MaxValue), classes = Integer(r, 1, T, row, 0, int.MaxValue);
                byte[] pb = Blob(r, 2, T, row), yb = Blob(r, 3, T, row);
                if (pb.LongLength % sizeof(float) != 0 || pb.LongLength / sizeof(float) != rows * classes || yb.LongLength != rows * sizeof(long))
                    throw new InvalidDataException($"{Path}: predictions of run {runKey} are corrupt ({pb.Length} bytes of probabilities, {yb.Length} bytes of labels for {rows} x {classes}).");
                var p = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(pb).ToArray();
                var y = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(yb).ToArray();
                return (p, y, (int)classes);
            });
        }
    }

    /// <summary>Stores a run's spectrum (nodes and weights per probe as JSON arrays; .NET writes doubles round-trippably).</summary>
    public void SaveSpectrum(StoredSpectrum spectrum)
    {
        if (spectrum.Nodes.Count == 0 || spectrum.Nodes.Count != spectrum.Weights.Count
            || spectrum.Nodes.Zip(spectrum.Weights).Any(p => p.First.Length == 0 || p.First.Length != p.Second.Length)
            || spectrum.Nodes.Concat(spectrum.Weights).SelectMany(v => v).Any(v => !double.IsFinite(v)))
            throw new ArgumentException($"Spectrum of run {spectrum.RunKey}: needs at least one probe, as many finite weights as finite nodes per probe.");
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = "INSERT OR REPLACE INTO spectra VALUES ($key, $nodes, $weights, $details, $seconds)";
            c.Parameters.AddWithValue("$key", spectrum.RunKey);
            c.Parameters.AddWithValue("$nodes", System.Text.Json.JsonSerializer.Serialize(spectrum.Nodes));
            c.Parameters.AddWithValue("$weights", System.Text.Json.JsonSerializer.Serialize(spectrum.Weights));
            c.Parameters.AddWithValue("$details", spectrum.DetailsJson);
            c.Parameters.AddWithValue("$seconds", spectrum.Seconds);
            c.ExecuteNonQuery();
        }
    }

    /// <summary>The stored spectrum of a run, or null.</summary>
    public StoredSpectrum? Spectrum(string runKey) => Spectra("WHERE run_key = $key", ("$key", runKey)).FirstOrDefault();

    public IReadOnlyList<StoredSpectrum> AllSpectra() => Spectra("ORDER BY run_key");

    private List<StoredSpectrum> Spectra(string where, params (string, object)[] parameters)
    {
        lock (gate)
        {
            using var c = connection.CreateCommand();
            c.CommandText = $"SELECT run_key, nodes_json, weights_json, details_json, seconds FROM spectra {where}";
            foreach (var (n, v) in parameters) c.Parameters.AddWithValue(n, v);
            return Query("spectra", () =>
            {
                using var r = c.ExecuteReader();
                var list = new List<StoredSpectrum>();
                const string T = "spectra";
                for (int n = 0; r.Read(); n++)
                {
                    string runKey = Text(r, 0, T, $"row {n}"), row = $"run {runKey}";
                    var nodes = Quadrature(r, 1, row);
                    var weights = Quadrature(r, 2, row);
                    if (nodes.Count != weights.Count || nodes.Zip(weights).Any(p => p.First.Length != p.Second.Length))
                        throw new InvalidDataException($"{Path}: spectra of {row}: {nodes.Count} probe(s) of nodes ({string.Join(", ", nodes.Select(v => v.Length))}) do not match {weights.Count} of weights ({string.Join(", ", weights.Select(v => v.Length))}).");
                    list.Add(new StoredSpectrum(runKey, nodes, weights, Text(r, 3, T, row), Real(r, 4, T, row)));
                }
                return list;
            });
        }
    }

    /// <summary>A JSON array (one per probe) of non-empty arrays of finite numbers; anything else names the file, column and run.</summary>
    private List<double[]> Quadrature(SqliteDataReader r, int i, string row)
    {
        string text = Text(r, i, "spectra", row);
        InvalidDataException Bad(string why) => new($"{Path}: spectra.{r.GetName(i)} of {row} {why}, expected a JSON array of non-empty arrays of finite numbers.");
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Array || doc.RootElement.GetArrayLength() == 0) throw Bad("is not a non-empty array");
            var probes = new List<double[]>();
            foreach (var probe in doc.RootElement.EnumerateArray())
            {
                if (probe.ValueKind != System.Text.Json.JsonValueKind.Array || probe.GetArrayLength() == 0) throw Bad($"holds {probe.ValueKind} at probe {probes.Count}");
                probes.Add([.. probe.EnumerateArray().Select(v => v.ValueKind == System.Text.Json.JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)
                    ? d : throw Bad($"holds {(v.ValueKind == System.Text.Json.JsonValueKind.Number ? v.GetRawText() : v.ValueKind.ToString())} at probe {probes.Count}"))]);
            }
            return probes;
        }
        catch (System.Text.Json.JsonException e) { throw Bad($"is not JSON ({e.Message})"); }
    }

    public sealed record MergeSummary(int RunsAdded, int RunsAlreadyPresent, int MetricsAdded, int MetricsAlreadyPresent)
    {
        public int SpectraAdded { get; init; }
        public int SpectraAlreadyPresent { get; init; }
    }

    /// <summary>
    /// Copies every run, metric, prediction and spectrum of <paramref name="other"/> into this store (shards into one). A
    /// run, metric or spectrum present in both must be identical (same recipe, outcome, value, nodes and weights); a
    /// conflict aborts the whole merge
    /// before anything is written, naming the run and the field. Per-group metrics (disagreement, JS divergence) are
    /// not copied: their value depends on which seeds the store holds (a shard's is over its own seeds), so they are
    /// recomputed over the merged store (as `reproduce merge` does), and a merge repeated after that, or resumed after
    /// a kill, finds no false conflict. Idempotent: merging the same store again adds nothing.
    /// </summary>
    public MergeSummary MergeFrom(ResultStore other)
    {
        var conflicts = new List<string>();
        var runsToAdd = new List<StoredRun>();
        int runsPresent = 0, metricsPresent = 0;
        foreach (var run in other.AllRuns())
        {
            var mine = GetRun(run.Key);
            if (mine is null) { runsToAdd.Add(run); continue; }
            runsPresent++;
            if (mine.SpecJson != run.SpecJson) conflicts.Add($"run {run.Key} ({run.Setting}/{run.Regime}/seed {run.Seed}): recipe differs");
            // The final train loss and accuracy are metrics (train_loss, train_accuracy), compared with the metrics below.
            if (mine.Diverged != run.Diverged)
                conflicts.Add($"run {run.Key} ({run.Setting}/{run.Regime}/seed {run.Seed}): outcome differs (diverged {mine.Diverged} here, {run.Diverged} in {other.Path})");
        }
        var metricsToAdd = new List<StoredMetric>();
        foreach (var m in other.AllMetrics().Where(m => !IsPerGroup(m.Metric)))
        {
            var mine = Metrics(m.RunKey);
            if (!mine.TryGetValue(m.Metric, out var existing)) { metricsToAdd.Add(m); continue; }
            metricsPresent++;
            if (!Same(existing.Value, m.Value)) conflicts.Add($"run {m.RunKey}: metric {m.Metric} is {existing.Value} here and {m.Value} in {other.Path}");
        }
        var spectraToAdd = new List<StoredSpectrum>();
        int spectraPresent = 0;
        foreach (var sp in other.AllSpectra())
        {
            var existing = Spectrum(sp.RunKey);
            if (existing is null) { spectraToAdd.Add(sp); continue; }
            spectraPresent++;
            static bool SameProbes(IReadOnlyList<double[]> a, IReadOnlyList<double[]> b) => a.Count == b.Count && a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second));
            if (!SameProbes(existing.Nodes, sp.Nodes) || !SameProbes(existing.Weights, sp.Weights)) conflicts.Add($"run {sp.RunKey}: spectrum differs here and in {other.Path}");
        }
        if (conflicts.Count > 0)
            throw new InvalidDataException($"Refusing to merge {other.Path} into {Path}: {conflicts.Count} conflicting duplicate(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", conflicts.Take(20)));
        foreach (var run in runsToAdd)
        {
            Training.TestPause.At("merge-run");
            var p = other.Predictions(run.Key);
            SaveRun(run, p?.Probabilities, p?.Labels, p?.Classes ?? 0);
        }
        foreach (var m in metricsToAdd) SaveMetric(m);
        foreach (var sp in spectraToAdd) SaveSpectrum(sp);
        return new MergeSummary(runsToAdd.Count, runsPresent, metricsToAdd.Count, metricsPresent) { SpectraAdded = spectraToAdd.Count, SpectraAlreadyPresent = spectraPresent };
    }

    private static bool Same(double a, double b) => a.Equals(b);

    private static bool IsPerGroup(string metric) =>
        global::Reproduce.Claims.Metrics.MetricRegistry.Contains(metric) && global::Reproduce.Claims.Metrics.MetricRegistry.Get(metric) is global::Reproduce.Claims.Metrics.GroupMetric;

    public void Dispose() => connection.Dispose();
}
