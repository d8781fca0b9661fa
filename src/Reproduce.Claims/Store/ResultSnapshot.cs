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

    public static ResultSnapshot Of(ResultStore store) => new(store.AllRuns(), store.AllMetrics()) { Spectra = store.AllSpectra() };

    /// <summary>The same runs with every metric passed through <paramref name="change"/>.</summary>
    public ResultSnapshot WithMetrics(Func<StoredMetric, StoredMetric> change) => this with { Metrics = [.. Metrics.Select(change)] };
}
