using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Training.Optimisers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Incremental;

/// <summary>
/// What the few-shot sessions did to a base model: after the base training (index 0) and after each session s
/// (index s), the nearest-class-mean accuracy on the test samples of every class seen so far, of the base classes alone
/// and of the session classes seen so far (NaN at index 0), all against every prototype seen so far; the largest
/// |theta - theta*_base| over the noised parameters (0 at index 0); and, for reference, the base-class accuracy the base
/// model itself would keep with no fine-tuning at all (the new classes' prototypes from the frozen base model): the part
/// of the drop that is the new classes' competition alone, not a change of the weights.
/// </summary>
public sealed record SessionRecord(IReadOnlyList<double> SeenAccuracy, IReadOnlyList<double> BaseAccuracy, IReadOnlyList<double> NovelAccuracy, IReadOnlyList<double> MaxDrift, IReadOnlyList<double> FrozenBaseAccuracy)
{
    /// <summary>Forgetting: base-class accuracy after the base training minus after the last session.</summary>
    public double Forgetting => BaseAccuracy[0] - BaseAccuracy[^1];
}

/// <summary>
/// Incremental few-shot learning in two phases (Shi et al., NeurIPS 2021, arXiv 2111.01549; moukamisama/F2M):
/// <list type="number">
/// <item><see cref="TrainBase"/>: the base training, the run's training. The recipe's optimiser, batch and epochs on
/// every training sample of the base classes, cross-entropy over the base classes' logits (the code's classifier has
/// as many outputs as base classes). With <see cref="IncrementalSettings.Flat"/> each step minimises F2M's
/// mean_j l_j + k std_j l_j over M box-noise draws on the noised parameters P (<see cref="FlatBox.Gradient"/>); without,
/// the plain cross-entropy. The code's ProtoFixLoss term (lambda 1, the features at theta + eps_j pulled toward those at
/// theta) is dropped: its definition needs per-class prototypes of a 16-shot sampler the suite's batches do not have,
/// and it is not part of the flatness argument; the objective is the CE part of the code's l_j.</item>
/// <item><see cref="RunSessions"/>: the few-shot sessions, on a copy of the base model (the run's model stays the base
/// model, whose flatness is what the claim compares). Only P trains (SGD, <see cref="IncrementalSettings.SessionEpochs"/>
/// full-batch steps per session on the prototype loss with old prototypes fixed), projected onto the flat box around
/// theta*_base after every step when Flat is set, unconstrained otherwise (standard base training plus fine-tuning).
/// The code's rounding of each update to multiples of b/4 is dropped (a quantisation of the step, not the box).
/// Classification by nearest class mean: base prototypes from the base model on the base classes' training samples,
/// each session's novel prototypes from its shots after its fine-tuning; no prototype is recomputed later.</item>
/// </list>
/// </summary>
public static class IncrementalFewShot
{
    /// <summary>Added to the run's seed for F2M's noise generator, so the batch order (the trainer's generator seeded
    /// with the seed) is the same with and without the noise, and the two regimes of a seed differ only in the objective.</summary>
    public const long NoiseSeedOffset = 104729;

    /// <summary>The noised parameters P of a model: every hidden Linear layer's weight of an MLP (names features.fc*.weight),
    /// not the biases, not the classifier. Another model is the suite's error.</summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> NoisedParameters(FeatureNetwork model)
    {
        if (model is not Mlp)
            throw new ArgumentException($"Incremental few-shot (F2M): the noised parameters are defined for an MLP's hidden layers; this model is a {model.GetType().Name}.");
        var noised = model.named_parameters().Where(p => p.name.EndsWith(".weight") && !p.name.StartsWith(FeatureNetwork.ClassifierName + ".")).ToList();
        if (noised.Count == 0) throw new ArgumentException("Incremental few-shot (F2M): the MLP has no hidden layer to add noise to.");
        return noised;
    }

    /// <summary>The base training (see the class summary); returns the trainer's record of it.</summary>
    public static TrainingResult TrainBase(nn.Module<Tensor, Tensor> module, Dataset data, TrainerOptions options, IncrementalSettings settings, Action<EpochLog>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var model = module as FeatureNetwork ?? throw new ArgumentException($"Incremental few-shot: the model must have penultimate features (a FeatureNetwork); this one is a {module.GetType().Name}.");
        if (settings.Problem() is { } problem) throw new ArgumentException(problem + ".");
        if (options.Augment || options.SamRho > 0 || options.SwaStartEpoch > 0 || options.LabelNoise is not null || options.RelativeFlatness is not null
            || options.Swad is not null || options.TrainLossTarget is not null || options.MeanSquaredError)
            throw new ArgumentException("Incremental few-shot: the base training is the recipe's optimiser on cross-entropy; it does not combine with augmentation, SAM, SWA, SWAD, label noise, FAM, a train-loss target or a regression loss.");
        if (model.Classifier.out_features < settings.TotalClasses)
            throw new ArgumentException($"Incremental few-shot: {settings.TotalClasses} classes ({settings.BaseClasses} base + {settings.Sessions} x {settings.Ways}) but the model has {model.Classifier.out_features} outputs.");
        var noised = NoisedParameters(model).Select(p => (Tensor)p.Parameter).ToList();
        var parameters = model.parameters().ToList();
        var optimizer = OptimiserRegistry.Create(options.Optimiser, parameters,
            new OptimiserSettings(options.LearningRate, options.Momentum, options.WeightDecay) { OptimiserParameters = options.OptimiserParameters, Seed = options.Seed });
        if (optimizer is PerturbedGradientOptimiser)
            throw new ArgumentException($"Incremental few-shot: the base training steps on its own gradient; the perturbed-gradient optimiser '{options.Optimiser}' does not combine with it.");
        using var baseData = ClassSplit.Select(data, settings.BaseClassList, "base");
        var generator = new Generator((ulong)options.Seed);
        var noise = new Generator((ulong)(options.Seed + NoiseSeedOffset));
        var device = parameters[0].device;
        long n = baseData.Count, batch = options.BatchSize == 0 ? n : Math.Min(options.BatchSize, n);
        long totalSteps = (n + batch - 1) / batch * options.Epochs, step = 0;
        var epochs = new List<EpochLog>();
        model.train();
        foreach (var group in optimizer.ParamGroups) group.LearningRate = options.LearningRate;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var order = randperm(n, generator: generator);
            double lossSum = 0; long correct = 0;
            for (long start = 0; start < n; start += batch)
            {
                using var stepScope = NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(batch, n - start));
                var x = baseData.Inputs.index_select(0, index).to(device);
                var y = baseData.Targets.index_select(0, index).to(device);
                if (options.Schedule != "constant")
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRateSchedule.At(options.Schedule, options.LearningRate, step, totalSteps);
                step++;
                // Logged loss and accuracy: those of the step's (first) forward pass, at theta for standard training and
                // at theta + eps_1 for F2M.
                bool first = true;
                Tensor Loss()
                {
                    var logits = model.forward(x).narrow(1, 0, settings.BaseClasses);
                    if (first) correct += logits.argmax(1).eq(y).sum().item<long>();
                    first = false;
                    return nn.functional.cross_entropy(logits, y);
                }
                optimizer.zero_grad();
                double value;
                if (settings.Flat is { } flat)
                {
                    var draws = Enumerable.Range(0, flat.NoiseSamples).Select(_ => FlatBox.Draw(noised, flat.Bound, noise)).ToList();
                    var (_, losses) = FlatBox.Gradient(parameters, noised, draws, Loss, flat.StdCoefficient);
                    value = losses.Any(l => !double.IsFinite(l)) ? double.NaN : losses.Average();
                }
                else
                {
                    var loss = Loss();
                    value = loss.detach().to(ScalarType.Float64).item<double>();
                    if (double.IsFinite(value)) loss.backward();
                }
                if (!double.IsFinite(value)) { model.eval(); return new TrainingResult(epochs, step, true, step); }
                optimizer.step();
                lossSum += value * index.shape[0];
            }
            var log = new EpochLog(epoch, lossSum / n, (double)correct / n);
            epochs.Add(log);
            progress?.Invoke(log);
        }
        model.eval();
        return new TrainingResult(epochs, step, false, null);
    }

    /// <summary>
    /// The few-shot sessions on a copy of <paramref name="baseModel"/> (left unchanged): shots drawn from
    /// <paramref name="train"/> with a generator seeded <paramref name="seed"/> (session 1's classes first, one randperm
    /// per class), accuracies on <paramref name="test"/>. See the class summary for the rules.
    /// </summary>
    public static SessionRecord RunSessions(FeatureNetwork baseModel, Dataset train, Dataset test, IncrementalSettings settings, long seed)
    {
        if (settings.Problem() is { } problem) throw new ArgumentException(problem + ".");
        using var scope = NewDisposeScope();
        using var model = Copy(baseModel);
        var noisedNamed = NoisedParameters(model);
        var noised = noisedNamed.Select(p => (Tensor)p.Parameter).ToList();
        foreach (var (name, p) in model.named_parameters()) p.requires_grad_(noisedNamed.Any(q => q.Name == name));
        var anchors = noised.Select(p => p.detach().clone()).ToList();
        var labels = new List<int>(settings.BaseClassList);
        using var baseTrain = ClassSplit.Select(train, settings.BaseClassList, "base");
        var prototypes = NearestClassMean.Prototypes(model, baseTrain.Inputs, baseTrain.Targets, labels);
        var frozenPrototypes = prototypes.clone();
        var frozen = new List<double>();
        var seen = new List<double>(); var baseAccuracy = new List<double>(); var novel = new List<double>(); var drift = new List<double>();
        void Evaluate(IReadOnlyList<int> novelClasses)
        {
            using var testScope = NewDisposeScope();
            using var seenTest = ClassSplit.Select(test, labels, "seen");
            using var baseTest = ClassSplit.Select(test, settings.BaseClassList, "base");
            seen.Add(NearestClassMean.Accuracy(model, seenTest.Inputs, seenTest.Targets, prototypes, labels));
            baseAccuracy.Add(NearestClassMean.Accuracy(model, baseTest.Inputs, baseTest.Targets, prototypes, labels));
            if (novelClasses.Count == 0) novel.Add(double.NaN);
            else
            {
                using var novelTest = ClassSplit.Select(test, novelClasses, "novel");
                novel.Add(NearestClassMean.Accuracy(model, novelTest.Inputs, novelTest.Targets, prototypes, labels));
            }
            frozen.Add(NearestClassMean.Accuracy(baseModel, baseTest.Inputs, baseTest.Targets, frozenPrototypes, labels));
            drift.Add(noised.Zip(anchors, (p, a) => (p - a).abs().max().to(ScalarType.Float64).item<double>()).Max());
        }
        Evaluate([]);
        var generator = new Generator((ulong)seed);
        var device = noised[0].device;
        var novelSoFar = new List<int>();
        for (int session = 1; session <= settings.Sessions; session++)
        {
            var classes = settings.SessionClasses(session);
            using var shots = ClassSplit.Shots(train, classes, settings.Shots, generator, $"session {session}");
            var x = shots.Inputs.to(device);
            // A fresh optimiser per session, as the code builds a new model for each (no momentum carried across).
            var optimizer = OptimiserRegistry.Create("sgd", noisedNamed.Select(p => p.Parameter), new OptimiserSettings(settings.SessionLearningRate, settings.SessionMomentum, settings.SessionWeightDecay));
            for (int epoch = 1; epoch <= settings.SessionEpochs; epoch++)
            {
                using var stepScope = NewDisposeScope();
                // The code fine-tunes in evaluation mode (net_g.eval() in incremental_optimize_parameters).
                model.eval();
                optimizer.zero_grad();
                var loss = NearestClassMean.PrototypeLoss(model.Features(x), settings.Shots, prototypes);
                double value = loss.detach().to(ScalarType.Float64).item<double>();
                if (!double.IsFinite(value)) throw new InvalidOperationException($"Incremental few-shot: the prototype loss of session {session}, epoch {epoch} is {value}.");
                loss.backward();
                optimizer.step();
                if (settings.Flat is { } flat) FlatBox.Project(noised, anchors, flat.Bound);
            }
            optimizer.Dispose();
            var sessionPrototypes = NearestClassMean.Prototypes(model, shots.Inputs, shots.Targets, classes);
            prototypes = cat([prototypes, sessionPrototypes], 0);
            frozenPrototypes = cat([frozenPrototypes, NearestClassMean.Prototypes(baseModel, shots.Inputs, shots.Targets, classes)], 0);
            labels.AddRange(classes);
            novelSoFar.AddRange(classes);
            Evaluate(novelSoFar);
        }
        return new SessionRecord(seen, baseAccuracy, novel, drift, frozen);
    }

    /// <summary>A copy of the model (parameters and buffers), built from its spec with the global generator's state put
    /// back, so building it changes no later draw.</summary>
    public static FeatureNetwork Copy(FeatureNetwork model)
    {
        var copy = ModelCopy.Of(model);
        copy.eval();
        return copy;
    }
}
