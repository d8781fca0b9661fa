namespace Reproduce.Claims.Metrics;

/// <summary>
/// The metric registry's former name, forwarding to <see cref="MetricRegistry"/>. Kept only because
/// Store/ResultStore.cs (merge's per-group test) still names it and was outside this change's files; switch that
/// reference to <see cref="MetricRegistry"/> and delete this class.
/// </summary>
[Obsolete("Use MetricRegistry.")]
public static class MetricCatalog
{
    public static IReadOnlyList<Metric> All => MetricRegistry.All;
}
