namespace Reproduce.Claims.Store;

/// <summary>
/// What the evaluator reads from a result store, held in memory: every run and every metric (with its details).
/// Evaluating a snapshot rather than the live store lets a test (or a what-if) change stored values and re-derive the
/// verdicts without touching the database.
/// </summary>
public sealed record ResultSnapshot(IReadOnlyList<StoredRun> Runs, IReadOnlyList<StoredMetric> Metrics)
{
    public static ResultSnapshot Of(ResultStore store) => new(store.AllRuns(), store.AllMetrics());

    /// <summary>The same runs with every metric passed through <paramref name="change"/>.</summary>
    public ResultSnapshot WithMetrics(Func<StoredMetric, StoredMetric> change) => this with { Metrics = [.. Metrics.Select(change)] };
}
