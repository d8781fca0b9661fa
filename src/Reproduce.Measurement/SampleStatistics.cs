namespace Reproduce.Measurement;

/// <summary>The mean of independent draws (probes, perturbations) and its standard error.</summary>
internal static class SampleStatistics
{
    /// <summary>Mean and standard error sqrt(s^2 / n), s^2 the unbiased sample variance; NaN error for one draw.</summary>
    public static (double Mean, double StandardError) MeanAndStandardError(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("No samples.", nameof(samples));
        double mean = samples.Average();
        if (samples.Count < 2) return (mean, double.NaN);
        double variance = samples.Sum(x => (x - mean) * (x - mean)) / (samples.Count - 1);
        return (mean, Math.Sqrt(variance / samples.Count));
    }
}
