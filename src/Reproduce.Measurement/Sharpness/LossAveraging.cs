using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>
/// How a data loss is averaged: over samples (exact mean, the default), or as the mean of per-batch means (the
/// paper's code; equal to the sample mean only when all batches have the same size).
/// </summary>
public enum LossAveraging { PerSample, PerBatchMean }

/// <summary>The data loss of a network in evaluation mode without gradients, fed batches on the network's device.</summary>
public static class DataLoss
{
    public static double Evaluate(nn.Module<Tensor, Tensor> network, LossKind loss, IBatchSource data, LossAveraging averaging = LossAveraging.PerSample)
    {
        if (data.BatchCount == 0 || data.SampleCount == 0) throw new ArgumentException("The data source is empty.");
        if (network.training) throw new InvalidOperationException("Measures need the network in evaluation mode (call eval()).");
        var device = ParameterPlacement.Of(network).Device;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double sum = 0;
        for (int b = 0; b < data.BatchCount; b++)
        {
            using var inner = NewDisposeScope();
            var batch = data.GetBatch(b, device);
            double batchSum = SampleLoss.Sum(loss, network.forward(batch.Inputs), batch.Targets).to(ScalarType.Float64).item<double>();
            sum += averaging == LossAveraging.PerSample ? batchSum : batchSum / batch.Count;
        }
        double value = averaging == LossAveraging.PerSample ? sum / data.SampleCount : sum / data.BatchCount;
        if (!double.IsFinite(value)) throw new NonFiniteValueException($"The data loss is {value} (diverged model or bad data).");
        return value;
    }
}
