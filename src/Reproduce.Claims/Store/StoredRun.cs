namespace Reproduce.Claims.Store;

/// <summary>A finished training run as stored: identity, outcome and provenance.</summary>
public sealed record StoredRun(
    string Key, string Setting, string Profile, string Regime, int Seed, string SpecJson, bool Diverged, long? DivergedAtStep,
    double FinalTrainLoss, double FinalTrainAccuracy, string EpochsJson, double Seconds, string ProvenanceJson);

/// <summary>One measured value of a run, with the measure's own details (standard error, options used) as JSON.</summary>
public sealed record StoredMetric(string RunKey, string Metric, double Value, string DetailsJson, double Seconds);
