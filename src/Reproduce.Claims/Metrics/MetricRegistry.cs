using Reproduce.Measurement.Sharpness;

namespace Reproduce.Claims.Metrics;

/// <summary>
/// Every metric a claim may name, each registered once, in the order the report and the listings show them. The claim
/// loader's valid names, the claim schema's metric enum (<see cref="ClaimSchema"/>), <c>reproduce list metrics</c>,
/// the runner's per-run and per-group split and the report's sharpness metrics are all read from here. A new metric
/// is one class deriving from <see cref="RunMetric"/> (or <see cref="GroupMetric"/>) and one <see cref="Register"/> line.
/// </summary>
public static class MetricRegistry
{
    private static readonly List<Metric> metrics = [];
    private static readonly object gate = new();

    static MetricRegistry()
    {
        Register(new TestAccuracyMetric());
        Register(new MeanLossMetric(LossSubset.Train));
        Register(new MeanLossMetric(LossSubset.Test));
        // Claim 11's "equally converged": the training MSE relative to the targets' variance (1 - R^2), scale-free.
        Register(new RelativeTrainLossMetric());
        Register(new TrainAccuracyMetric());
        Register(new TrainConfidenceMetric());
        Register(new GradientNormMetric());
        Register(new GeneralisationGapMetric());
        Register(new LossGapMetric());
        Register(new TestNllMetric());
        Register(new TestBrierMetric());
        Register(new CalibrationErrorMetric());
        Register(new EqualMassCalibrationErrorMetric());
        Register(new CorruptionAccuracyMetric());
        Register(new PgdAccuracyMetric());
        Register(new DisagreementMetric());
        Register(new JensenShannonMetric());
        Register(new SamSharpnessMetric());
        Register(new SamCurvatureMetric());
        // The paper's SAM-sharpness curve over rho (its 2-D targets): the radii other than sam_sharpness's own.
        foreach (var rho in SamSharpnessAtRadiusMetric.PaperCurveRadii.Where(r => r != SamSharpnessMetric.PaperRho))
            Register(new SamSharpnessAtRadiusMetric(rho));
        Register(new FisherRaoMetric(FisherRaoFactor.Liang));
        Register(new FisherRaoMetric(FisherRaoFactor.PaperCode));
        Register(new RelativeFlatnessMetric());
        Register(new PaperRelativeFlatnessMetric());
        Register(new HessianTopEigenvalueMetric());
        Register(new HessianTraceMetric());
        Register(new HessianEigenvalueRatioMetric());
        Register(new AdaptiveSharpnessMetric());
        Register(new EpsilonSharpnessMetric());
        // Related methods' own measures (issue 16): GAM's first-order flatness, Frob-SAM's Hessian Frobenius norm.
        Register(new FirstOrderFlatnessMetric());
        Register(new HessianFrobeniusMetric());
        // "Flatness After All?" (Shoham, Mor-Yosef and Avron): the soft rank and the damped TIC, of the Gauss-Newton (Fisher) matrix.
        Register(new GaussNewtonSoftRankMetric());
        Register(new GaussNewtonTicMetric());
        // Dinh et al. 2017: the run's model against a function-preserving rescaled copy, one metric per quantity.
        Register(new ReparameterisationMetric(ReparameterisedQuantity.PredictionChange));
        Register(new ReparameterisationMetric(ReparameterisedQuantity.HessianTopEigenvalue));
        Register(new ReparameterisationMetric(ReparameterisedQuantity.HessianTrace));
        Register(new ReparameterisationMetric(ReparameterisedQuantity.FisherRao));
        Register(new ReparameterisationMetric(ReparameterisedQuantity.RelativeFlatness));
        Register(new ReparameterisationMetric(ReparameterisedQuantity.AdaptiveSharpness));
        // Deep matrix factorisation (Kamber and Parhi): exact sharpness, constructed minimisers, the escape phenomenon.
        Register(new FactorisationSharpnessErrorMetric());
        Register(new FlatUnbalancedSharpnessRatioMetric());
        Register(new FrobeniusBalancedSharpnessRatioMetric());
        Register(new SharpMinimumEscapeMetric());
        Register(new FlatMinimumEscapeMetric());
        // Schliserman, Vansover-Hager and Koren: flat and sharp empirical minimisers and SA-GD on the SCO hard instances.
        foreach (var quantity in Enum.GetValues<ScoQuantity>()) Register(new ScoMetric(quantity));
        // F2M (Shi et al. 2021), incremental few-shot learning: the sessions' accuracies and forgetting, the base model's flatness.
        Register(new IncrementalBaseAccuracyMetric());
        Register(new IncrementalForgettingMetric());
        Register(new IncrementalFinalAccuracyMetric());
        Register(new IncrementalBaseTrainAccuracyMetric());
        Register(new IncrementalBaseHessianTraceMetric());
        Register(new IncrementalBaseNoiseLossMetric());
        // Observed along training (TrajectoryMetric): Cohen et al.'s edge of stability, and the Hessian trace that
        // label-noise SGD lowers along the zero-loss manifold.
        Register(new EdgeOfStabilityMetric(EdgeOfStabilitySummary.LateMedian));
        Register(new EdgeOfStabilityMetric(EdgeOfStabilitySummary.Initial));
        Register(new HessianTraceTrajectoryMetric());
    }

    /// <summary>Adds a metric. Its name must be new, lower-case snake case; a safety metric names its better
    /// direction (higher or lower), a sharpness metric none.</summary>
    public static void Register(Metric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        if (!System.Text.RegularExpressions.Regex.IsMatch(metric.Name, "^[a-z][a-z0-9_]*$"))
            throw new ArgumentException($"Metric name '{metric.Name}' must be lower-case letters, digits and underscores.");
        if (metric.Better is not (null or Metric.Higher or Metric.Lower))
            throw new ArgumentException($"Metric '{metric.Name}': better direction '{metric.Better}' must be '{Metric.Higher}', '{Metric.Lower}' or none.");
        if (metric.Family == MetricFamily.Safety && metric.Better is null)
            throw new ArgumentException($"Metric '{metric.Name}': a safety metric says which direction is better.");
        if (metric is not (RunMetric or GroupMetric))
            throw new ArgumentException($"Metric '{metric.Name}' must derive from RunMetric or GroupMetric.");
        lock (gate)
        {
            if (metrics.Any(m => m.Name == metric.Name)) throw new ArgumentException($"Metric '{metric.Name}' is already registered.");
            metrics.Add(metric);
        }
    }

    public static IReadOnlyList<Metric> All { get { lock (gate) return [.. metrics]; } }

    public static IReadOnlyList<string> Names => [.. All.Select(m => m.Name)];

    public static bool Contains(string name) => All.Any(m => m.Name == name);

    public static Metric Get(string name) => All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"Unknown metric '{name}'. Valid: {string.Join(", ", Names)}.");

    /// <summary>The per-run metric of this name; a per-group or unknown name is an error that says so.</summary>
    public static RunMetric GetPerRun(string name) => Get(name) as RunMetric
        ?? throw new ArgumentException($"Metric '{name}' is not computed per run (it is computed across the seeds of a regime).");

    /// <summary>The per-group metrics, in registration order.</summary>
    public static IReadOnlyList<GroupMetric> GroupMetrics => [.. All.OfType<GroupMetric>()];
}
