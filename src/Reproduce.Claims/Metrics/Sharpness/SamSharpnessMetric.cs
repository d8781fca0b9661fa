using Reproduce.Measurement.Sharpness;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// sam_sharpness, the paper's (average case): mean over the setting profile's SamDraws draws z ~ N(0, I) over every
/// float entry of the state (BatchNorm buffers included) of |L(w + rho z / sqrt P) - L(w)| / rho on the measure subset,
/// P the number of parameters; the state is restored bit for bit.
/// </summary>
public sealed class SamSharpnessMetric : RunMetric
{
    /// <summary>The paper's radius, shared with <see cref="SamCurvatureMetric"/> (which repeats the same draws).</summary>
    public const double PaperRho = 0.005;

    [MetricParameter("perturbation radius")]
    public double Rho { get; init; } = PaperRho;

    public override string Name => "sam_sharpness";
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"the paper's SAM sharpness: mean |L(w + rho z / sqrt P) - L(w)| / rho, rho {Format(Rho)}, state incl. BN buffers (draws: the setting profile's samDraws)";

    public override MetricValue Compute(RunMeasurementContext run)
    {
        var measure = new SamSharpness { Rho = Rho, Draws = run.SettingProfile.SamDraws, Seed = run.Seed };
        var r = measure.Summarise(run.SamLosses(measure));
        return new(r.Value, Details(new { r.StandardError, r.Rho, r.Draws, r.ParameterCount, r.PerturbedEntries, averaging = r.Averaging.ToString() }));
    }
}

/// <summary>
/// sam_sharpness_rho_&lt;r&gt;: the paper's SAM sharpness (<see cref="SamSharpnessMetric"/>, the same computation and draws)
/// at another radius. The paper plots SAM sharpness against rho in {5e-4, 5e-3, 5e-2, 0.5} for its 2-D targets; 5e-3 is
/// sam_sharpness itself, the others are registered once each (<see cref="PaperCurveRadii"/>). The radius is part of the
/// name, written with 'p' for the decimal point (a metric name is lower-case letters, digits and underscores):
/// sam_sharpness_rho_0p0005, sam_sharpness_rho_0p05, sam_sharpness_rho_0p5.
/// </summary>
public sealed class SamSharpnessAtRadiusMetric(double rho) : RunMetric
{
    /// <summary>The paper's curve: its four radii in increasing order; <see cref="SamSharpnessMetric.PaperRho"/> is one of them.</summary>
    public static readonly IReadOnlyList<double> PaperCurveRadii = [0.0005, SamSharpnessMetric.PaperRho, 0.05, 0.5];

    [MetricParameter("perturbation radius")]
    public double Rho { get; } = rho > 0 && double.IsFinite(rho) ? rho : throw new ArgumentOutOfRangeException(nameof(rho), rho, "A SAM radius is a positive finite number.");

    /// <summary>The stored metric that holds SAM sharpness at <paramref name="rho"/>: sam_sharpness at the paper's radius,
    /// else this class's name for it (registered for the paper's curve radii only).</summary>
    public static string MetricNameAt(double rho) => rho == SamSharpnessMetric.PaperRho ? "sam_sharpness" : NameAt(rho);

    private static string NameAt(double rho) => "sam_sharpness_rho_" + rho.ToString("0.###############", System.Globalization.CultureInfo.InvariantCulture).Replace('.', 'p');

    public override string Name => NameAt(Rho);
    public override MetricFamily Family => MetricFamily.Sharpness;
    public override string Description => $"the paper's SAM sharpness at another radius: mean |L(w + rho z / sqrt P) - L(w)| / rho, rho {Format(Rho)}, state incl. BN buffers (draws: the setting profile's samDraws; sam_sharpness is rho {Format(SamSharpnessMetric.PaperRho)})";

    /// <summary>Exactly <see cref="SamSharpnessMetric"/> with this radius: one computation, so the two cannot drift.</summary>
    public override MetricValue Compute(RunMeasurementContext run) => new SamSharpnessMetric { Rho = Rho }.Compute(run);
}
