using TorchSharp;
using Reproduce.Training.Data;
using static TorchSharp.torch;

namespace Reproduce.Training;

/// <summary>
/// Seeded mini-batch training. The shuffle order comes from a generator seeded by the options, so the same seed
/// and thread count give bit-identical weights. A non-finite loss stops the run and is recorded as divergence.
/// </summary>
public sealed class Trainer
{
    public Action<EpochLog>? Progress { get; init; }

    public TrainingResult Train(nn.Module<Tensor, Tensor> model, Dataset data, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), "Epochs must be non-negative.");
        if (options.BatchSize < 0) throw new ArgumentOutOfRangeException(nameof(options), "Batch size must be non-negative (0 = full batch).");
        if (!(options.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(options), "The learning rate must be positive.");
        var optimizer = optim.SGD(model.parameters(), options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay);
        var sam = options.SamRho > 0 ? new Optimisers.Sam(model.parameters(), optimizer, options.SamRho) : null;
        var generator = new Generator((ulong)options.Seed);
        long n = data.Count, batch = options.BatchSize == 0 ? n : Math.Min(options.BatchSize, n);
        var epochs = new List<EpochLog>();
        long step = 0;
        model.train();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var order = randperm(n, generator: generator);
            double lossSum = 0; long correct = 0, seen = 0;
            for (long start = 0; start < n; start += batch)
            {
                using var stepScope = NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(batch, n - start));
                var x = data.Inputs.index_select(0, index);
                var y = data.Targets.index_select(0, index);
                Tensor Loss(Tensor output) => options.MeanSquaredError ? nn.functional.mse_loss(output, y) : nn.functional.cross_entropy(output, y);
                optimizer.zero_grad();
                var output = model.forward(x);
                var loss = Loss(output);
                double value = loss.detach().to(ScalarType.Float64).item<double>();
                step++;
                if (!double.IsFinite(value))
                {
                    model.eval();
                    return new TrainingResult(epochs, step, true, step);
                }
                if (sam is not null) sam.Step(() => Loss(model.forward(x)));
                else { loss.backward(); optimizer.step(); }
                lossSum += value * index.shape[0];
                seen += index.shape[0];
                if (!options.MeanSquaredError) correct += output.argmax(1).eq(y).sum().item<long>();
            }
            var log = new EpochLog(epoch, lossSum / seen, options.MeanSquaredError ? double.NaN : (double)correct / seen);
            epochs.Add(log);
            Progress?.Invoke(log);
        }
        model.eval();
        return new TrainingResult(epochs, step, false, null);
    }

    /// <summary>Accuracy of the model (evaluation mode, no grad) on a data set, in batches.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor> model, Dataset data, int batchSize = 1000)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        for (long start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, data.Count - start);
            var pred = model.forward(data.Inputs.narrow(0, start, len)).argmax(1);
            correct += pred.eq(data.Targets.narrow(0, start, len)).sum().item<long>();
        }
        return (double)correct / data.Count;
    }
}
