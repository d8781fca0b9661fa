namespace Reproduce.Claims.Runner;

public enum RunPhase { Cached, Training, Measuring, Finished, Diverged, Failed }

/// <summary>A progress report: run <see cref="Index"/> of <see cref="Total"/> entered a phase.</summary>
/// <param name="Share">This run's share of the plan's estimated work (all shares sum to 1), for the ETA.</param>
public sealed record RunEvent(int Index, int Total, string Run, RunPhase Phase, string Detail, double Seconds, double Share = 0);

/// <summary>What an execution did.</summary>
public sealed record ExecutionSummary(int Trained, int Cached, int Diverged, int Failed, int MetricsMeasured, double Seconds, IReadOnlyList<string> Failures)
{
    /// <summary>Runs that were stored but lacked a metric, measured from their checkpoint without retraining.</summary>
    public int Remeasured { get; init; }
}
