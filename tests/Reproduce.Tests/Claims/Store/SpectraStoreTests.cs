using Microsoft.Data.Sqlite;
using NUnit.Framework;
using Reproduce.Claims.Store;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Store;

/// <summary>
/// The result store's spectra table and its format history: spectra round-trip bit for bit, a store written before the
/// table existed (with final_train_* filled) opens and reads, new runs leave final_train_* NULL, a merge copies spectra
/// and refuses a conflicting one, and a damaged spectra row is an error naming the file, column and run.
/// </summary>
[TestFixture, Category("Unit")]
public class SpectraStoreTests
{
    private string folder = "";

    [SetUp]
    public void Folder() => folder = Repository.TempFolder("spectra-store");

    [TearDown]
    public void Clean()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private static StoredRun Run(string key) => new(key, "mlp", "smoke", "Base", 0, "{}", false, null, "[]", 1.0, "{}");

    private static StoredSpectrum Spectrum(string key, double shift = 0) =>
        new(key, [[-1e-300 + shift, 1.0 / 3, 0.1 + 0.2, 1e300], [Math.PI]], [[0.25, 0.25, 0.125, 0.375], [1.0]], "{\"probes\":2}", 0.5);

    private static long[] Bits(IReadOnlyList<double[]> probes) => [.. probes.SelectMany(p => p).Select(BitConverter.DoubleToInt64Bits)];

    private static void Sql(string path, string sql)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(string path, string sql)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Test]
    public void SpectraRoundTripBitForBitByRun()
    {
        using var store = new ResultStore(Path.Combine(folder, "a.sqlite"));
        store.SaveRun(Run("r0"), null, null, 0);
        store.SaveRun(Run("r1"), null, null, 0);
        store.SaveSpectrum(Spectrum("r0"));
        var read = store.Spectrum("r0")!;
        Assert.That(Bits(read.Nodes), Is.EqualTo(Bits(Spectrum("r0").Nodes)));
        Assert.That(Bits(read.Weights), Is.EqualTo(Bits(Spectrum("r0").Weights)));
        Assert.That(read.Nodes.Select(n => n.Length), Is.EqualTo(new[] { 4, 1 }), "probes keep their own lengths");
        Assert.That((read.DetailsJson, read.Seconds), Is.EqualTo(("{\"probes\":2}", 0.5)));
        Assert.That(store.Spectrum("r1"), Is.Null);
        Assert.That(store.AllSpectra().Select(s => s.RunKey), Is.EqualTo(new[] { "r0" }));
        Assert.That(() => store.SaveSpectrum(Spectrum("r1") with { Weights = [[0.5], [1.0]] }), Throws.ArgumentException.With.Message.Contains("r1"));
    }

    [Test]
    public void AStoreFromBeforeTheSpectraTableOpensAndNewRunsNoLongerWriteFinalTrainColumns()
    {
        string path = Path.Combine(folder, "old.sqlite");
        // The schema as the previous build wrote it: no spectra table, final_train_* filled.
        Sql(path, """
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema_version', '1');
            CREATE TABLE runs (key TEXT PRIMARY KEY, setting TEXT NOT NULL, profile TEXT NOT NULL, regime TEXT NOT NULL, seed INTEGER NOT NULL,
                spec_json TEXT NOT NULL, diverged INTEGER NOT NULL, diverged_at INTEGER, final_train_loss REAL, final_train_accuracy REAL,
                epochs_json TEXT NOT NULL, seconds REAL NOT NULL, provenance_json TEXT NOT NULL, created TEXT NOT NULL);
            CREATE TABLE metrics (run_key TEXT NOT NULL REFERENCES runs(key), metric TEXT NOT NULL, value REAL NOT NULL, details_json TEXT NOT NULL,
                seconds REAL NOT NULL, PRIMARY KEY (run_key, metric));
            CREATE TABLE predictions (run_key TEXT PRIMARY KEY REFERENCES runs(key), rows INTEGER NOT NULL, classes INTEGER NOT NULL,
                probabilities BLOB NOT NULL, labels BLOB NOT NULL);
            INSERT INTO runs VALUES ('old', 'mlp', 'smoke', 'Base', 0, '{}', 0, NULL, 0.125, 0.75, '[]', 1.0, '{}', 'then');
            INSERT INTO metrics VALUES ('old', 'train_loss', 0.125, '{}', 0.1);
            """);
        using (var store = new ResultStore(path))
        {
            Assert.That(store.AllRuns().Select(r => r.Key), Is.EqualTo(new[] { "old" }));
            Assert.That(store.Metrics("old")["train_loss"].Value, Is.EqualTo(0.125));
            Assert.That(store.AllSpectra(), Is.Empty, "the table was created on open");
            store.SaveSpectrum(Spectrum("old"));
            store.SaveRun(Run("new"), null, null, 0);
        }
        Assert.That(Scalar(path, "SELECT final_train_loss FROM runs WHERE key = 'old'"), Is.EqualTo(0.125), "old rows are left as they were");
        Assert.That(Scalar(path, "SELECT count(*) FROM runs WHERE key = 'new' AND final_train_loss IS NULL AND final_train_accuracy IS NULL"), Is.EqualTo(1L));
        Assert.That(Scalar(path, "SELECT count(*) FROM spectra"), Is.EqualTo(1L));
    }

    [Test]
    public void AMergeCopiesSpectraAndRefusesAConflictingOne()
    {
        using var a = new ResultStore(Path.Combine(folder, "a.sqlite"));
        using var b = new ResultStore(Path.Combine(folder, "b.sqlite"));
        using var target = new ResultStore(Path.Combine(folder, "target.sqlite"));
        foreach (var s in new[] { a, b }) { s.SaveRun(Run("r0"), null, null, 0); s.SaveRun(Run("r1"), null, null, 0); }
        a.SaveSpectrum(Spectrum("r0"));
        b.SaveSpectrum(Spectrum("r0", shift: 1e-9));
        b.SaveSpectrum(Spectrum("r1"));
        var first = target.MergeFrom(a);
        Assert.That((first.SpectraAdded, first.SpectraAlreadyPresent), Is.EqualTo((1, 0)));
        Assert.That(target.Spectrum("r0"), Is.Not.Null, "the spectrum was copied");
        Assert.That(Bits(target.Spectrum("r0")!.Nodes), Is.EqualTo(Bits(Spectrum("r0").Nodes)));
        Assert.That(() => target.MergeFrom(b), Throws.TypeOf<InvalidDataException>().With.Message.Contains("run r0: spectrum differs"));
        Assert.That(target.Spectrum("r1"), Is.Null, "a refused merge writes nothing");
        var again = target.MergeFrom(a);
        Assert.That((again.SpectraAdded, again.SpectraAlreadyPresent), Is.EqualTo((0, 1)), "idempotent");
    }

    [TestCase("nodes_json", "'abc'", "spectra.nodes_json of run r0 is not JSON")]
    [TestCase("nodes_json", "'[]'", "spectra.nodes_json of run r0 is not a non-empty array")]
    [TestCase("weights_json", "'[[1, \"x\"]]'", "spectra.weights_json of run r0 holds String at probe 0")]
    [TestCase("weights_json", "'[[1e999]]'", "spectra.weights_json of run r0 holds")]
    [TestCase("weights_json", "'[[0.5, 0.5]]'", "spectra of run r0: 1 probe(s) of nodes (1) do not match 1 of weights (2)")]
    [TestCase("nodes_json", "x'00'", "spectra.nodes_json of run r0 holds a blob of 1 bytes")]
    public void ADamagedSpectrumNamesFileColumnAndRun(string column, string value, string message)
    {
        string path = Path.Combine(folder, "damaged.sqlite");
        using (var store = new ResultStore(path))
        {
            store.SaveRun(Run("r0"), null, null, 0);
            store.SaveSpectrum(new StoredSpectrum("r0", [[2.0]], [[1.0]], "{}", 0));
        }
        Sql(path, $"UPDATE spectra SET {column} = {value}");
        using var reopened = new ResultStore(path);
        var e = Assert.Throws<InvalidDataException>(() => reopened.AllSpectra())!;
        Assert.That(e.Message, Does.Contain(Path.GetFullPath(path)).And.Contain(message));
    }
}
