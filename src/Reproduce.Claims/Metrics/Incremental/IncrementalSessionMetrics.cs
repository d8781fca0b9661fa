namespace Reproduce.Claims.Metrics;

/// <summary>incremental_base_accuracy: after the last few-shot session, the nearest-class-mean accuracy on the test
/// samples of the base classes, against every prototype seen so far (the code's "acc of former samples in all classes").</summary>
public sealed class IncrementalBaseAccuracyMetric : RunMetric
{
    public override string Name => "incremental_base_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => "incremental few-shot: base-class test accuracy after the last session (nearest class mean over every class seen)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var s = IncrementalRun.Sessions(run, Name);
        return new(s.BaseAccuracy[^1], Details(new { baseAccuracy = s.BaseAccuracy, seenAccuracy = s.SeenAccuracy, novelAccuracy = s.NovelAccuracy.Select(v => double.IsNaN(v) ? (double?)null : v), maxDrift = s.MaxDrift }));
    }
}

/// <summary>incremental_forgetting: base-class test accuracy after the base training minus after the last session,
/// both nearest class mean over every prototype seen at that point (the paper's first-to-last drop, on the base classes).</summary>
public sealed class IncrementalForgettingMetric : RunMetric
{
    public override string Name => "incremental_forgetting";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Lower;
    public override string Description => "incremental few-shot: base-class test accuracy after the base training minus after the last session (nearest class mean over every class seen)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var s = IncrementalRun.Sessions(run, Name);
        return new(s.Forgetting, Details(new { first = s.BaseAccuracy[0], last = s.BaseAccuracy[^1], baseAccuracy = s.BaseAccuracy, maxDrift = s.MaxDrift, frozenBaseAccuracy = s.FrozenBaseAccuracy }));
    }
}

/// <summary>incremental_final_accuracy: after the last session, the nearest-class-mean accuracy on the test samples of
/// every class seen (base and novel), the paper's per-session top-1 accuracy at its last session.</summary>
public sealed class IncrementalFinalAccuracyMetric : RunMetric
{
    public override string Name => "incremental_final_accuracy";
    public override MetricFamily Family => MetricFamily.Safety;
    public override string? Better => Higher;
    public override string Description => "incremental few-shot: test accuracy on every class seen after the last session (nearest class mean)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var s = IncrementalRun.Sessions(run, Name);
        return new(s.SeenAccuracy[^1], Details(new { seenAccuracy = s.SeenAccuracy, novelAccuracy = s.NovelAccuracy.Select(v => double.IsNaN(v) ? (double?)null : v) }));
    }
}
