namespace Reproduce.Measurement.Spectral;

/// <summary>A trace estimate with its standard error (0 when exact) and the operator applications it cost.</summary>
public sealed record TraceEstimate(double Value, double StandardError, long ApplyCount, int Probes, string Method);
