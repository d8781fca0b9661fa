using System.Text.Json;
using Reproduce.Training.Models;
using Reproduce.Training.Optimisers;
using Reproduce.Training.Regimes;

namespace Reproduce.Claims.Specs;

/// <summary>Reads and validates claims/settings/*.json: name = file name, regimes known, one setting profile per named profile.</summary>
public static class SettingLoader
{
    public static readonly IReadOnlyList<string> DataSets = ["fashion-mnist", "cifar10", "circles", "functions2d", "matrix-factorisation", "teacher-student", "sco-flat-minima"];

    public static IReadOnlyDictionary<string, SettingSpec> LoadFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new SpecException(folder, "$", "settings folder not found");
        var result = new Dictionary<string, SettingSpec>(StringComparer.Ordinal);
        var errors = new List<SpecError>();
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            try { var s = Load(file); result[s.Name] = s; }
            catch (SpecException e) { errors.AddRange(e.Errors); }
        }
        if (errors.Count > 0) throw new SpecException(errors);
        return result;
    }

    public static SettingSpec Load(string file)
    {
        using var doc = JsonReader.Parse(file);
        var errors = new List<SpecError>();
        var r = new JsonReader(file, errors);
        var root = doc.RootElement;
        if (!r.IsObject(root, "$")) throw new SpecException(errors);
        r.OnlyKnown(root, "$", "name", "description", "regimes", "profiles");
        var name = r.String(root, "$", "name");
        if (name is not null && name != Path.GetFileNameWithoutExtension(file)) r.Error("$.name", $"'{name}' must equal the file name ('{Path.GetFileNameWithoutExtension(file)}')");
        var description = r.String(root, "$", "description", required: false) ?? "";
        var regimes = r.Strings(root, "$", "regimes", allowed: RegimeRegistry.Names);
        var profiles = new Dictionary<string, SettingProfile>(StringComparer.Ordinal);
        if (r.Get(root, "$", "profiles", true) is { } ps && r.IsObject(ps, "$.profiles"))
            foreach (var p in ps.EnumerateObject())
            {
                var profile = ReadProfile(r, p.Value, $"$.profiles.{p.Name}", regimes ?? []);
                if (profile is not null) profiles[p.Name] = profile;
            }
        if (errors.Count == 0 && profiles.Count == 0) r.Error("$.profiles", "must define at least one profile");
        if (errors.Count > 0) throw new SpecException(errors);
        return new SettingSpec { Name = name!, File = file, Description = description, Regimes = regimes!, Profiles = profiles };
    }

    /// <summary>"optimiserParameters": { name: number } of the optimiser's own hyper-parameters, each declared by its
    /// registration. Sorted by name (the canonical JSON, hence the run key, must not depend on the file's order); an
    /// empty object is the same as none.</summary>
    private static IReadOnlyDictionary<string, double>? ReadOptimiserParameters(JsonReader r, JsonElement e, string path, string optimiser)
    {
        if (r.Get(e, path, "optimiserParameters", false) is not { } ps) return null;
        string at = $"{path}.optimiserParameters";
        if (!r.IsObject(ps, at)) return null;
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in ps.EnumerateObject())
        {
            if (OptimiserRegistry.Contains(optimiser) && OptimiserRegistry.UnknownParameters(optimiser, [p.Name]) is { } problem) { r.Error($"{at}.{p.Name}", problem); continue; }
            if (r.Number(ps, at, p.Name) is { } value) result[p.Name] = value;
        }
        return result.Count == 0 ? null : result;
    }

    /// <summary>One setting profile at <paramref name="path"/>, every rule checked (errors go to <paramref name="r"/>); null when any failed.
    /// Also how a sweep validates the profile of each of its cells (<see cref="SweepLoader.Derive"/>).</summary>
    internal static SettingProfile? ReadProfile(JsonReader r, JsonElement e, string path, IReadOnlyList<string> regimes)
    {
        if (!r.IsObject(e, path)) return null;
        int before = r.Errors.Count;
        r.OnlyKnown(e, path, "data", "model", "trainSize", "testSize", "measureSize", "epochs", "trainLossTarget", "relativeTrainLossTarget", "batchSize", "learningRate", "momentum",
            "optimiser", "optimiserParameters", "schedule", "seeds", "samDraws", "hessianProbes", "robustnessSize", "labelNoise", "circlesFactor", "circlesNoise", "function", "targetSingularValues", "teacherWidth", "sco");
        var data = r.String(e, path, "data", allowed: DataSets);
        ModelSpec? model = null;
        if (r.Get(e, path, "model", true) is { } m)
        {
            try
            {
                model = JsonSerializer.Deserialize<ModelSpec>(m.GetRawText(), ModelSpec.Json);
                using var probe = model!.Build(0);
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException or NotSupportedException)
            { r.Error($"{path}.model", ex.Message); model = null; }
        }
        var trainSize = r.Integer(e, path, "trainSize", min: 1);
        var testSize = r.Integer(e, path, "testSize", min: 1);
        var measureSize = r.Integer(e, path, "measureSize", min: 1);
        var epochs = r.Integer(e, path, "epochs", min: 1);
        var trainLossTarget = r.Number(e, path, "trainLossTarget", required: false, min: 1e-12, max: 1e6);
        // A relative target is 1 - R^2 on the training subset: at most 1 (the MSE of predicting the targets' mean), and
        // defined only for a regression loss. One stop rule per profile, so not beside an absolute target.
        var relativeTrainLossTarget = r.Number(e, path, "relativeTrainLossTarget", required: false, min: 1e-12, max: 1);
        if (relativeTrainLossTarget is not null)
        {
            if (trainLossTarget is not null)
                r.Error($"{path}.relativeTrainLossTarget", "a profile stops on one train-loss target: give trainLossTarget (absolute) or relativeTrainLossTarget (a fraction of the training targets' variance), not both");
            if (data is not null && !SettingProfile.IsRegressionData(data))
                r.Error($"{path}.relativeTrainLossTarget", $"a relative train-loss target is the training MSE over the variance of the training targets: it applies only to regression data, not '{data}'");
        }
        // Either target stops on the iterate's loss; an SWA average is not the iterate (the trainer refuses both). SWAD
        // has a stop of its own (its loss valley) and keeps it: a target does not apply to it (TrainerOptions.With), so a
        // matched-fit setting can stop the other regimes at SWAD's fit.
        string? targetField = trainLossTarget is not null ? "trainLossTarget" : relativeTrainLossTarget is not null ? "relativeTrainLossTarget" : null;
        if (targetField is not null && regimes.Any(n => RegimeRegistry.Contains(n) && RegimeRegistry.Get(n).SwaStartFraction > 0))
            r.Error($"{path}.{targetField}", "a train-loss target stops on the iterate's loss, which does not bound the loss of an SWA average: a setting with a target cannot list an SWA regime");
        var batch = r.Integer(e, path, "batchSize", min: 1);
        var lr = r.Number(e, path, "learningRate", min: 1e-12, max: 100);
        var momentum = r.Number(e, path, "momentum", required: false, min: 0, max: 1) ?? 0;
        var optimiser = r.String(e, path, "optimiser", required: false, allowed: OptimiserRegistry.Names) ?? "sgd";
        var optimiserParameters = ReadOptimiserParameters(r, e, path, optimiser);
        var schedule = r.String(e, path, "schedule", required: false, allowed: LearningRateSchedule.Names) ?? "constant";
        if (regimes.Any(n => RegimeRegistry.Contains(n) && RegimeRegistry.Get(n).Swad is not null))
        {
            if (schedule != "constant") r.Error($"{path}.schedule", "SWAD averages the iterates of a constant learning rate: a setting that lists a SWAD regime needs schedule 'constant'");
            if (data is not null && data is not ("fashion-mnist" or "cifar10")) r.Error($"{path}.data", "SWAD's held-out split is cut from an image data set's training file: a setting that lists a SWAD regime needs fashion-mnist or cifar10");
        }
        var seeds = r.Integer(e, path, "seeds", min: 2, max: 1000);
        var samDraws = r.Integer(e, path, "samDraws", required: false, min: 1) ?? 100;
        var probes = r.Integer(e, path, "hessianProbes", required: false, min: 1) ?? 50;
        var robustness = r.Integer(e, path, "robustnessSize", required: false, min: 1) ?? 1000;
        var labelNoise = r.Number(e, path, "labelNoise", required: false, min: 0, max: 1);
        if (labelNoise is > 0 && regimes.Any(n => RegimeRegistry.Contains(n) && RegimeRegistry.Get(n).Swad is not null))
            r.Error($"{path}.labelNoise", "SWAD's held-out split is not defined for random training labels: a setting with label noise cannot list a SWAD regime");
        var circlesFactor = r.Number(e, path, "circlesFactor", required: data == "circles", min: 1e-6, max: 1 - 1e-6);
        var circlesNoise = r.Number(e, path, "circlesNoise", required: false, min: 0, max: 10);
        if (data != "circles" && (circlesFactor is not null || circlesNoise is not null)) r.Error($"{path}.circlesFactor", "circles options apply only to data 'circles'");
        var function = r.String(e, path, "function", required: data == "functions2d", allowed: [.. Training.Data.Functions2D.Targets.Keys]);
        if (data != "functions2d" && function is not null) r.Error($"{path}.function", "a target function applies only to data 'functions2d'");
        if (data == "functions2d" && model is not null && (model.Classes != 1 || model.InputShape.Count != 1 || model.InputShape[0] != 2))
            r.Error($"{path}.model", "functions2d needs a model from 2 inputs to 1 output (inputShape [2], classes 1)");
        var singularValues = ReadSingularValues(r, e, path, data);
        if (data == "matrix-factorisation" && model is not null)
            CheckFactorisation(r, path, model, singularValues, trainSize, testSize, measureSize, batch);
        var teacherWidth = r.Integer(e, path, "teacherWidth", required: data == "teacher-student", min: 1, max: 10000);
        if (data != "teacher-student" && teacherWidth is not null) r.Error($"{path}.teacherWidth", "a teacher width applies only to data 'teacher-student'");
        if (data == "teacher-student" && model is not null && (model.Classes != 1 || model.InputShape.Count != 1))
            r.Error($"{path}.model", "teacher-student needs a model from d inputs to 1 output (inputShape [d], classes 1)");
        var sco = ReadSco(r, e, path, data);
        if (data == "sco-flat-minima" && model is not null)
            CheckScoPlaceholder(r, path, model, trainSize, testSize, measureSize, batch);
        if (measureSize is not null && trainSize is not null && measureSize > trainSize) r.Error($"{path}.measureSize", $"{measureSize} exceeds trainSize {trainSize}");
        if (robustness > (testSize ?? int.MaxValue)) r.Error($"{path}.robustnessSize", $"{robustness} exceeds testSize {testSize}");
        if (model is not null && regimes.Any(n => RegimeRegistry.Contains(n) && RegimeRegistry.Get(n).Augment) && !model.IsImage)
            r.Error($"{path}.model", "augmented regimes need an image model (crop-and-flip belongs to a CNN, not an MLP)");
        // FedAvg regimes split trainSize into equal clients and run epochs x K / (C x E) whole rounds (FederatedSettings).
        foreach (var fed in regimes.Where(RegimeRegistry.Contains).Select(n => (Name: n, Settings: RegimeRegistry.Get(n).Federated)).Where(f => f.Settings is not null))
        {
            if (trainSize is { } size && size % fed.Settings!.Clients != 0) r.Error($"{path}.trainSize", $"regime '{fed.Name}' splits the training subset into {fed.Settings.Clients} clients of equal size; {size} is not a multiple of {fed.Settings.Clients}");
            if (epochs is { } passes && (long)passes * fed.Settings!.Clients % ((long)fed.Settings.ClientsPerRound * fed.Settings.LocalEpochs) != 0)
                r.Error($"{path}.epochs", $"regime '{fed.Name}': {passes} epochs x {fed.Settings.Clients} clients are not a whole number of rounds of {fed.Settings.ClientsPerRound} clients x {fed.Settings.LocalEpochs} local epochs");
        }
        if (r.Errors.Count > before) return null;
        return new SettingProfile
        {
            Data = data!, Model = model!, TrainSize = trainSize!.Value, TestSize = testSize!.Value, MeasureSize = measureSize!.Value,
            Epochs = epochs!.Value, TrainLossTarget = trainLossTarget, RelativeTrainLossTarget = relativeTrainLossTarget, BatchSize = batch!.Value, LearningRate = lr!.Value, Momentum = momentum, Optimiser = optimiser, OptimiserParameters = optimiserParameters,
            Schedule = schedule, Seeds = seeds!.Value, SamDraws = samDraws, HessianProbes = probes, RobustnessSize = robustness,
            LabelNoise = labelNoise, CirclesFactor = circlesFactor, CirclesNoise = data == "circles" ? circlesNoise ?? 0 : null, Function = function,
            TargetSingularValues = singularValues,
            TeacherWidth = teacherWidth,
            Sco = sco,
        };
    }

    /// <summary>"targetSingularValues": required for, and only for, matrix-factorisation data; positive, finite, largest first.</summary>
    private static IReadOnlyList<double>? ReadSingularValues(JsonReader r, JsonElement e, string path, string? data)
    {
        string at = $"{path}.targetSingularValues";
        var element = r.Get(e, path, "targetSingularValues", data == "matrix-factorisation");
        if (element is not { } values) return null;
        if (data != "matrix-factorisation") { r.Error(at, "target singular values apply only to data 'matrix-factorisation'"); return null; }
        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0) { r.Error(at, "must be a non-empty array of positive numbers"); return null; }
        var list = new List<double>();
        int index = 0;
        foreach (var v in values.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var x) || !(x > 0) || !double.IsFinite(x)) r.Error($"{at}[{index}]", "must be a positive finite number");
            else list.Add(x);
            index++;
        }
        if (list.Count != index) return null;
        for (int i = 1; i < list.Count; i++)
            if (list[i] > list[i - 1]) { r.Error($"{at}[{i}]", "singular values are listed largest first"); return null; }
        return list;
    }

    /// <summary>"sco": required for, and only for, sco-flat-minima data. sampleSize n in [1, 16] (2^n gates); flatness rho in
    /// (0, 1/2] (Theorem 1 takes rho &lt;= 1/2; the measures use radius rho, so rho &gt; 0); steps T in [2, 4096], stepSize
    /// eta in (0, 1] and radius r in [0, 10] for SA-GD, all three or none, with 2^n T + 1 &lt;= 2^22 coordinates.</summary>
    private static ScoSpec? ReadSco(JsonReader r, JsonElement e, string path, string? data)
    {
        string at = $"{path}.sco";
        if (r.Get(e, path, "sco", data == "sco-flat-minima") is not { } sco) return null;
        if (data != "sco-flat-minima") { r.Error(at, "an sco instance applies only to data 'sco-flat-minima'"); return null; }
        if (!r.IsObject(sco, at)) return null;
        int before = r.Errors.Count;
        r.OnlyKnown(sco, at, "sampleSize", "flatness", "steps", "stepSize", "radius");
        var n = r.Integer(sco, at, "sampleSize", min: 1, max: 16);
        var rho = r.Number(sco, at, "flatness", min: 1e-12, max: 0.5);
        var steps = r.Integer(sco, at, "steps", required: false, min: 2, max: 4096);
        var eta = r.Number(sco, at, "stepSize", required: false, min: 1e-12, max: 1);
        var radius = r.Number(sco, at, "radius", required: false, min: 0, max: 10);
        int given = (steps is null ? 0 : 1) + (eta is null ? 0 : 1) + (radius is null ? 0 : 1);
        if (given is 1 or 2) r.Error(at, "SA-GD's steps, stepSize and radius (T, eta, r) go together: give all three or none");
        if (n is not null && steps is not null && (1L << n.Value) * steps.Value + 1 > 1L << 22)
            r.Error($"{at}.steps", $"2^{n} gates x {steps} steps + 1 exceeds 2^22 coordinates");
        if (r.Errors.Count > before) return null;
        return new ScoSpec { SampleSize = n!.Value, Flatness = rho!.Value, Steps = steps, StepSize = eta, Radius = radius };
    }

    /// <summary>sco-flat-minima: the metrics build the instance from the run's seed, so the run trains a placeholder only:
    /// the 1 x 1 x 1 linear chain on one sample, every size 1.</summary>
    private static void CheckScoPlaceholder(JsonReader r, string path, Training.Models.ModelSpec model, int? trainSize, int? testSize, int? measureSize, int? batch)
    {
        if (model.Kind != "linear" || model.Widths is not { Count: 3 } widths || widths.Any(w => w != 1))
            r.Error($"{path}.model", "sco-flat-minima trains a placeholder only (its metrics build the instance from the run's seed): the model must be linear with widths [1, 1, 1]");
        foreach (var (name, value) in new[] { ("trainSize", trainSize), ("testSize", testSize), ("measureSize", measureSize), ("batchSize", batch) })
            if (value is not null && value != 1) r.Error($"{path}.{name}", "must be 1: sco-flat-minima trains a placeholder on one sample");
    }

    /// <summary>Deep matrix factorisation: a linear model whose input width d_in and output width d_out are the target's
    /// dimensions, at most min(d_in, d_out) singular values, and every size equal to d_in (the samples are the d_in
    /// columns of the identity, trained full batch and measured all together).</summary>
    private static void CheckFactorisation(JsonReader r, string path, Training.Models.ModelSpec model, IReadOnlyList<double>? singularValues, int? trainSize, int? testSize, int? measureSize, int? batch)
    {
        if (model.Kind != "linear" || model.Widths is not { Count: >= 3 } widths) { r.Error($"{path}.model", "matrix-factorisation needs a linear model (kind 'linear', at least two factors)"); return; }
        int dIn = widths[0], dOut = widths[^1];
        if (singularValues is not null && singularValues.Count > Math.Min(dIn, dOut))
            r.Error($"{path}.targetSingularValues", $"a {dOut} x {dIn} target has at most {Math.Min(dIn, dOut)} singular values; got {singularValues.Count}");
        foreach (var (name, value) in new[] { ("trainSize", trainSize), ("testSize", testSize), ("measureSize", measureSize), ("batchSize", batch) })
            if (value is not null && value != dIn) r.Error($"{path}.{name}", $"must equal the input width {dIn}: the samples are the {dIn} columns of the identity, used whole");
    }
}
