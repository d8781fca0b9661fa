namespace Reproduce.Claims.Runner;

public enum RunPhase { Cached, Training, Measuring, Finished, Diverged, Failed }

/// <summary>A progress report: run <see cref="Index"/> of <see cref="Total"/> entered a phase.</summary>
public sealed record RunEvent(int Index, int Total, string Run, RunPhase Phase, string Detail, double Seconds);

/// <summary>What an execution did.</summary>
public sealed record ExecutionSummary(int Trained, int Cached, int Diverged, int Failed, int MetricsMeasured, double Seconds, IReadOnlyList<string> Failures);
