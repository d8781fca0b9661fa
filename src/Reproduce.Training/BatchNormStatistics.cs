using TorchSharp;
using Reproduce.Training.Data;
using static TorchSharp.torch;

namespace Reproduce.Training;

/// <summary>
/// Recomputes BatchNorm running statistics for the current weights (needed after weight averaging): reset them,
/// then one pass over the training data in training mode with momentum 1/(k+1) at batch k, which makes the running
/// mean and variance the plain average over the batches. Batches are moved to the model's device.
/// </summary>
public static class BatchNormStatistics
{
    public static void Recompute(nn.Module<Tensor, Tensor> model, Dataset data, int batchSize)
    {
        var norms = model.modules().OfType<TorchSharp.Modules.BatchNorm>().ToList();
        if (norms.Count == 0) return;
        var device = model.parameters().First().device;
        var saved = norms.Select(b => b.momentum).ToList();
        foreach (var b in norms) b.reset_running_stats();
        model.train();
        using (no_grad())
        {
            int k = 0;
            for (long start = 0; start < data.Count; start += batchSize, k++)
            {
                using var scope = NewDisposeScope();
                foreach (var b in norms) b.momentum = 1.0 / (k + 1);
                model.forward(data.Inputs.narrow(0, start, Math.Min(batchSize, data.Count - start)).to(device));
            }
        }
        for (int i = 0; i < norms.Count; i++) norms[i].momentum = saved[i];
        model.eval();
    }
}
