namespace Reproduce.Claims.Store;

/// <summary>
/// What the evaluator and the report read from a result store, held in memory: every run, every metric (with its
/// details) and every stored spectrum. Evaluating a snapshot rather than the live store lets a test (or a what-if)
/// change stored values and re-derive the verdicts without touching the database.
/// </summary>
public sealed record ResultSnapshot(IReadOnlyList<StoredRun> Runs, IReadOnlyList<StoredMetric> Metrics)
{
    /// <summary>Hessian spectral densities by run (seed 0 of each planned setting and regime; see Runner.HessianSpectrum).</summary>
    public IReadOnlyList<StoredSpectrum> Spectra { get; init; } = [];

    /// <summary>Stored test-set predictions by run key (runs without them are absent): what a test over models reads
    /// (Statistics.ModelPermutationTest, for the per-group metrics).</summary>
    public IReadOnlyDictionary<string, (float[] Probabilities, long[] Labels, int Classes)> Predictions { get; init; } =
        new Dictionary<string, (float[] Probabilities, long[] Labels, int Classes)>();

    public static ResultSnapshot Of(ResultStore store)
    {
        var runs = store.AllRuns();
        var predictions = new Dictionary<string, (float[] Probabilities, long[] Labels, int Classes)>();
        foreach (var key in runs.Select(r => r.Key).Distinct())
            if (store.Predictions(key) is { } p) predictions[key] = p;
        return new(runs, store.AllMetrics()) { Spectra = store.AllSpectra(), Predictions = predictions };
    }

    /// <summary>The same runs with every metric passed through <paramref name="change"/>.</summary>
    public ResultSnapshot WithMetrics(Func<StoredMetric, StoredMetric> change) => this with { Metrics = [.. Metrics.Select(change)] };
}
