using Reproduce.Training.Models;

namespace Reproduce.Claims.Specs;

/// <summary>
/// A training setting at one profile: data, model and recipe. Everything that determines a run's result is here
/// (plus regime and seed), so its canonical JSON is what the run's content hash is taken over.
/// </summary>
public sealed record SettingProfile
{
    public required string Data { get; init; }
    public required ModelSpec Model { get; init; }
    public required int TrainSize { get; init; }
    public required int TestSize { get; init; }
    /// <summary>Training samples the sharpness measures use (the first of the training subset).</summary>
    public required int MeasureSize { get; init; }
    /// <summary>The epoch count, or with <see cref="TrainLossTarget"/> or <see cref="RelativeTrainLossTarget"/> the epoch cap.</summary>
    public required int Epochs { get; init; }
    /// <summary>Train until the clean training loss at an epoch's end is at most this (epochs = the cap); null = train
    /// exactly <see cref="Epochs"/> (Training.TrainerOptions.TrainLossTarget). Left out of the canonical JSON when
    /// null, so the keys of runs without a target are unchanged.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TrainLossTarget { get; init; }
    /// <summary>The same stop, relative to the targets' scale (regression settings only): train until the clean training
    /// MSE is at most this times the variance of the training targets (<see cref="Training.Data.Dataset.TargetVariance"/>,
    /// the MSE of predicting their mean), i.e. until 1 - R^2 on the training subset is at most this. One relative target
    /// fits targets whose scales differ by orders of magnitude equally well (claim 11's "equally converged"), where one
    /// absolute target cannot. The runner turns it into the absolute target of the trainer from the run's data; null = no
    /// relative target. Exclusive with <see cref="TrainLossTarget"/>. Left out of the canonical JSON when null.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? RelativeTrainLossTarget { get; init; }
    public required int BatchSize { get; init; }
    public required double LearningRate { get; init; }
    public double Momentum { get; init; }
    public string Optimiser { get; init; } = "sgd";
    /// <summary>The optimiser's own hyper-parameters by name (e.g. Adam's beta2), sorted by name; null = its registration's
    /// defaults. Left out of the canonical JSON when null, so the keys of runs that set none are unchanged.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? OptimiserParameters { get; init; }
    public string Schedule { get; init; } = "constant";
    public required int Seeds { get; init; }
    /// <summary>Draws for SAM sharpness (the paper: 100).</summary>
    public int SamDraws { get; init; } = 100;
    /// <summary>Hutchinson probes for the Hessian trace.</summary>
    public int HessianProbes { get; init; } = 50;
    /// <summary>Test images for corruption and adversarial accuracy (the first of the test subset).</summary>
    public int RobustnessSize { get; init; } = 1000;
    /// <summary>Fraction of training labels replaced by uniform random classes (Zhang et al.); null = none.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LabelNoise { get; init; }
    /// <summary>Circles data: ring factor (inner radius / outer; nearer 1 = tighter boundary) and Gaussian noise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? CirclesFactor { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? CirclesNoise { get; init; }
    /// <summary>functions2d data: the target (sphere, booth, three-hump-camel, himmelblau, rosenbrock, beale, rastrigin).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Function { get; init; }

    /// <summary>teacher-student data: the hidden width m of the two-layer tanh teacher (<see cref="Training.Data.TeacherStudent"/>;
    /// the input dimension is the model's input width).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? TeacherWidth { get; init; }

    /// <summary>matrix-factorisation data: the target's singular values (largest first); its dimensions are the linear
    /// model's output and input widths, its singular vectors drawn with the data seed (<see cref="Training.Data.MatrixFactorisation"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double>? TargetSingularValues { get; init; }

    /// <summary>sco-flat-minima data: the hard instance of Schliserman, Vansover-Hager and Koren (arXiv 2511.03548) that the
    /// setting's metrics build per run from the run's seed (<see cref="Measurement.StochasticConvex.FlatMinimaConstruction"/>);
    /// the run itself trains a placeholder.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ScoSpec? Sco { get; init; }

    /// <summary>Regression settings train and measure with MSE; classification ones with cross-entropy.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsRegression => IsRegressionData(Data);

    /// <summary>Whether a data set's settings are regression ones (MSE), by its name.</summary>
    public static bool IsRegressionData(string data) => data is "functions2d" or "matrix-factorisation" or "teacher-student" or "sco-flat-minima";
}

/// <summary>
/// The parameters of an SCO flat-minima instance (arXiv 2511.03548): the training-set size n (2^n gates) and the
/// flatness radius rho (Theorem 1), and for SA-GD (Theorem 3) its steps T, step size eta and perturbation radius r,
/// all three or none.
/// </summary>
public sealed record ScoSpec
{
    public required int SampleSize { get; init; }
    public required double Flatness { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Steps { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? StepSize { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? Radius { get; init; }
}

/// <summary>A named setting (claims/settings/&lt;name&gt;.json): the regimes that make sense for it, and one setting profile (data, model, recipe, measurement sizes) per named profile.</summary>
public sealed record SettingSpec
{
    public required string Name { get; init; }
    public required string File { get; init; }
    public string Description { get; init; } = "";
    public required IReadOnlyList<string> Regimes { get; init; }
    public required IReadOnlyDictionary<string, SettingProfile> Profiles { get; init; }

    public SettingProfile For(string profile) => Profiles.TryGetValue(profile, out var p) ? p
        : throw new SpecException(File, "$.profiles", $"no setting profile for profile '{profile}'; it has: {string.Join(", ", Profiles.Keys)}");
}
