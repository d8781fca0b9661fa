using Reproduce.Runtime.Devices;
using TorchSharp;
using Reproduce.Training.Data;
using Reproduce.Training.Optimisers;
using static TorchSharp.torch;

namespace Reproduce.Training;

/// <summary>
/// Seeded mini-batch training. The shuffle order and the augmentation come from one generator seeded by the
/// options, so the same seed and thread count give bit-identical weights. A non-finite loss stops the run and is
/// recorded as divergence ("diverged at step k"), never handed on as NaN weights.
/// The device follows the model: the data set stays in host memory, the generator is a CPU generator (so a seed gives
/// the same shuffle and augmentation on every device), and each batch is moved to the device of the model's parameters
/// after it is cut and augmented (on the CPU the move is the identity: libtorch's to() returns the tensor itself).
/// </summary>
public sealed class Trainer
{
    public Action<EpochLog>? Progress { get; init; }

    /// <summary>Called at step 0, every <see cref="TrainingObserver.EverySteps"/> steps and after the last step, with the
    /// model in evaluation mode (<see cref="TrainingObserver"/>); null = not observed.</summary>
    public TrainingObserver? Observer { get; init; }

    /// <param name="heldOut">SWAD's held-out split (samples never trained on), whose loss picks the averaging window;
    /// required with <see cref="TrainerOptions.Swad"/>, unused otherwise.</param>
    public TrainingResult Train(nn.Module<Tensor, Tensor> model, Dataset data, TrainerOptions options, Dataset? heldOut = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        options.Validate();
        if (options.Incremental is { } incremental) return Incremental.IncrementalFewShot.TrainBase(model, data, options, incremental, Progress);
        if (options.Federated is not null) return Observer is null ? Federated.FederatedTrainer.Train(model, data, options, Progress) : throw new ArgumentException("FedAvg's global model is not observed along training (its rounds are not the trainer's steps).");
        if (options.Augment && data.Inputs.dim() != 4)
            throw new ArgumentException($"{data.Name}: augmentation needs image inputs (N, C, H, W); this data has shape [{string.Join(", ", data.Inputs.shape)}].");
        var parameters = model.parameters().ToList();
        if (parameters.Count == 0) throw new ArgumentException("The model has no parameters to train.", nameof(model));
        var device = parameters[0].device;
        var optimizer = OptimiserRegistry.Create(options.Optimiser, parameters,
            new OptimiserSettings(options.LearningRate, options.Momentum, options.WeightDecay) { OptimiserParameters = options.OptimiserParameters, Seed = options.Seed });
        var sam = options.SamRho > 0 ? new Sam(parameters, optimizer, options.SamRho) : null;
        // FAM needs the penultimate features of the same forward pass that gives the logits.
        var flatness = options.RelativeFlatness;
        Models.FeatureNetwork? featureNetwork = null;
        if (flatness is not null)
        {
            featureNetwork = model as Models.FeatureNetwork
                ?? throw new ArgumentException($"FAM's relative-flatness term needs a model with penultimate features and a linear classifier (a FeatureNetwork); this model is a {model.GetType().Name}.", nameof(model));
            if (optimizer is PerturbedGradientOptimiser)
                throw new ArgumentException($"FAM's relative-flatness term is not combined with the perturbed-gradient optimiser '{options.Optimiser}': its closure recomputes the plain loss at perturbed weights, without the term.");
        }
        var augment = options.Augment ? new CropAndFlip() : null;
        using var swa = options.SwaStartEpoch > 0 ? new WeightAverager(parameters) : null;
        // SWAD: every iterate goes into its segment's sum; at each segment's end the held-out loss of the current
        // iterate goes to the loss valley, which names the segments that join the average (LossValley).
        if (options.Swad is not null && heldOut is null) throw new ArgumentException("SWAD needs a held-out split to pick its window.", nameof(heldOut));
        var valley = options.Swad is { } swad ? new LossValley(swad.ConvergeWindow, swad.ToleranceWindow, swad.ToleranceRatio) : null;
        using var dense = valley is not null ? new DenseWeightAverager(parameters, valley.Retained) : null;
        var generator = new Generator((ulong)options.Seed);
        bool reuseForward = ForwardIsPure(model);
        long n = data.Count, batch = options.BatchSize == 0 ? n : Math.Min(options.BatchSize, n);
        long stepsPerEpoch = (n + batch - 1) / batch, totalSteps = stepsPerEpoch * options.Epochs;
        var epochs = new List<EpochLog>();
        long step = 0;
        model.train();
        bool scheduled = options.Schedule != "constant";
        foreach (var group in optimizer.ParamGroups) group.LearningRate = options.LearningRate;
        Observe(model, parameters, step);
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var order = randperm(n, generator: generator);
            // Per-step losses and correct counts stay on the device and are read once per epoch: a .item() per step
            // would synchronise every step (it halved MLP throughput). Divergence is then found at the epoch's end
            // as the first non-finite step loss, so "diverged at step k" is still exact.
            var losses = new List<Tensor>();
            var sizes = new List<long>();
            Tensor? correct = null;
            long epochStart = step;
            for (long start = 0; start < n; start += batch)
            {
                using var stepScope = NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(batch, n - start));
                var x = data.Inputs.index_select(0, index);
                var y = data.Targets.index_select(0, index).to(device);
                if (augment is not null) x = augment.Apply(x, generator);
                x = x.to(device);
                if (scheduled)
                    foreach (var group in optimizer.ParamGroups)
                        group.LearningRate = LearningRateSchedule.At(options.Schedule, options.LearningRate, step, totalSteps);
                Tensor Loss(Tensor output, Tensor target) => options.MeanSquaredError ? nn.functional.mse_loss(output, target) : nn.functional.cross_entropy(output, target);
                optimizer.zero_grad();
                // With FAM the forward pass is split where FeatureNetwork.forward splits it (logits = classifier(phi)),
                // so the logits are the same bits and phi stays at hand for the term.
                Tensor? features = featureNetwork?.Features(x);
                var output = featureNetwork is not null ? featureNetwork.Classifier.forward(features!) : model.forward(x);
                // Label-noise SGD trains on this step's perturbed labels; accuracy below counts against the clean ones.
                var target = options.LabelNoise is { } noise ? noise.Apply(y, output.shape[^1], generator) : y;
                var loss = Loss(output, target);
                step++;
                if (sam is not null)
                {
                    // SAM's first closure is the loss at w on this batch, which was just computed: handed over
                    // instead of recomputed when a forward pass has no side effect (see ForwardIsPure), it is the same
                    // tensor with the same graph, so the step is bit-identical and one forward pass cheaper.
                    var batches = MicroBatches(x, target, options.SamMicroBatch, model, Loss);
                    if (batches.Count == 1 && reuseForward)
                    {
                        bool first = true;
                        var recompute = batches[0].Item1;
                        batches = [(() => { if (!first) return recompute(); first = false; return loss; }, batches[0].Item2)];
                    }
                    double value = sam.Step(batches);
                    if (!double.IsFinite(value)) { model.eval(); return new TrainingResult(epochs, step, true, step); }
                }
                else if (optimizer is PerturbedGradientOptimiser perturbed) perturbed.Step(loss, () => Loss(model.forward(x), target));
                else if (flatness is not null)
                {
                    // SGD steps on L_B + lambda R_B; the epoch's logged loss stays L_B (the data loss, as with weight decay).
                    (loss + flatness.Term(features!, output, featureNetwork!.Classifier.weight!)).backward();
                    optimizer.step();
                }
                else { loss.backward(); optimizer.step(); }
                dense?.Add();
                if (Observer is { } observer && step % observer.EverySteps == 0) Observe(model, parameters, step);
                losses.Add(loss.detach().to(ScalarType.Float64).MoveToOuterDisposeScope());
                sizes.Add(index.shape[0]);
                if (!options.MeanSquaredError)
                {
                    var c = output.argmax(1).eq(y).sum();
                    correct = correct is null ? c.MoveToOuterDisposeScope() : correct.add_(c);
                }
            }
            // One copy to the host per epoch.
            var stepLosses = HostRead.ToArray<double>(stack(losses));
            int bad = Array.FindIndex(stepLosses, v => !double.IsFinite(v));
            if (bad >= 0)
            {
                model.eval();
                return new TrainingResult(epochs, epochStart + bad + 1, true, epochStart + bad + 1);
            }
            double lossSum = 0; long seen = 0;
            for (int i = 0; i < stepLosses.Length; i++) { lossSum += stepLosses[i] * sizes[i]; seen += sizes[i]; }
            if (swa is not null && epoch >= options.SwaStartEpoch) swa.Snapshot();
            double? cleanLoss = options.TrainLossTarget is null ? null : CleanLoss(model, data, options.MeanSquaredError);
            double? heldOutLoss = null;
            bool valleyDead = false;
            if (valley is not null && epoch % options.Swad!.SegmentEpochs == 0)
            {
                dense!.Close();
                heldOutLoss = CleanLoss(model, heldOut!, options.MeanSquaredError);
                var decision = valley.Add(heldOutLoss.Value);
                foreach (int segment in decision.Accepted) dense.Accept(segment);
                valleyDead = decision.Dead;
            }
            var log = new EpochLog(epoch, lossSum / seen, options.MeanSquaredError ? double.NaN : (double)correct!.item<long>() / seen, cleanLoss, heldOutLoss);
            epochs.Add(log);
            Progress?.Invoke(log);
            if (cleanLoss is { } clean && clean <= options.TrainLossTarget)
            {
                model.eval();
                return new TrainingResult(epochs, step, false, null) { ReachedTrainLossTarget = true };
            }
            // A dead valley accepts nothing more: the code stops training there (the average is the same either way).
            if (valleyDead) break;
        }
        if (swa is not null && swa.Count > 0)
        {
            swa.Finish();
            BatchNormStatistics.Recompute(model, data, (int)batch);
        }
        SwadWindow? window = null;
        if (valley is not null)
        {
            foreach (int segment in valley.Finish()) dense!.Accept(segment);
            dense!.Write();
            BatchNormStatistics.Recompute(model, data, (int)batch);
            var (firstSegment, lastSegment) = valley.Window!.Value;
            window = new SwadWindow((int)(stepsPerEpoch * options.Swad!.SegmentEpochs), [.. valley.Losses], valley.ConvergedAt, valley.Threshold, firstSegment, lastSegment, valley.DeadAt);
        }
        if (Observer is { } last && step % last.EverySteps != 0) Observe(model, parameters, step);
        model.eval();
        return new TrainingResult(epochs, step, false, null) { ReachedTrainLossTarget = options.TrainLossTarget is null ? null : false, Swad = window };
    }

    /// <summary>Mean loss of the model over the whole data set in evaluation mode, without augmentation: the quantity a
    /// train-loss target is checked against (the same loss the train_loss metric reports after training). Leaves the
    /// model in training mode. A non-finite value cannot reach a target, so training goes on to the cap or to the
    /// divergence check.</summary>
    public static double CleanLoss(nn.Module<Tensor, Tensor> model, Dataset data, bool meanSquaredError, int batchSize = 1000)
    {
        var device = model.parameters().First().device;
        model.eval();
        double sum = 0;
        using (no_grad())
        {
            for (long start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, data.Count - start);
                var output = model.forward(data.Inputs.narrow(0, start, len).to(device));
                var target = data.Targets.narrow(0, start, len).to(device);
                // Sum reduction per batch, divided once by N: the mean over the whole set, whatever the batch size.
                var loss = meanSquaredError ? nn.functional.mse_loss(output, target, reduction: nn.Reduction.Sum) / output[0].numel()
                    : nn.functional.cross_entropy(output, target, reduction: nn.Reduction.Sum);
                sum += loss.to(ScalarType.Float64).item<double>();
            }
        }
        model.train();
        return sum / data.Count;
    }

    /// <summary>
    /// Hands the model to the observer at <paramref name="step"/>, in evaluation mode and back in training mode after.
    /// Weights that are no longer finite are not handed on (a measure of NaN weights would throw, and the run is about
    /// to be recorded as diverged at the epoch's end); checking them costs one reduction per observation, none otherwise.
    /// </summary>
    private void Observe(nn.Module<Tensor, Tensor> model, IReadOnlyList<TorchSharp.Modules.Parameter> parameters, long step)
    {
        if (Observer is not { } observer) return;
        using (var scope = NewDisposeScope())
            if (!parameters.All(p => isfinite(p).all().item<bool>())) return;
        model.eval();
        try { observer.Observe(step); }
        finally { model.train(); }
    }

    /// <summary>
    /// Does a training-mode forward pass change nothing but its output? True for the suite's MLP and LeNet (no
    /// buffers, no dropout, no random draws), whose forward passes are then interchangeable: the same weights and
    /// batch give the same output bits, and running one twice or once changes no state. The ResNet's BatchNorm updates
    /// its running statistics on every training-mode pass (so the number of passes is part of the recipe), and a model
    /// from elsewhere may draw random numbers: both keep every pass.
    /// </summary>
    public static bool ForwardIsPure(nn.Module<Tensor, Tensor> model) => model is Models.Mlp or Models.LeNet;

    private static IReadOnlyList<(Func<Tensor>, double)> MicroBatches(Tensor x, Tensor y, int micro, nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss)
    {
        long n = x.shape[0];
        if (micro <= 0 || micro >= n) return [(() => loss(model.forward(x), y), 1.0)];
        var list = new List<(Func<Tensor>, double)>();
        for (long s = 0; s < n; s += micro)
        {
            long len = Math.Min(micro, n - s);
            var xs = x.narrow(0, s, len);
            var ys = y.narrow(0, s, len);
            list.Add((() => loss(model.forward(xs), ys), (double)len / n));
        }
        return list;
    }

    /// <summary>Accuracy of the model (evaluation mode, no grad) on a data set, in batches moved to the model's device.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor> model, Dataset data, int batchSize = 1000)
    {
        var device = model.parameters().First().device;
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        for (long start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, data.Count - start);
            var pred = model.forward(data.Inputs.narrow(0, start, len).to(device)).argmax(1);
            correct += pred.eq(data.Targets.narrow(0, start, len).to(device)).sum().item<long>();
        }
        return (double)correct / data.Count;
    }
}
