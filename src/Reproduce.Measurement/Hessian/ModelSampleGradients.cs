using TorchSharp;
using Reproduce.Measurement.Autograd;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// The per-sample loss gradients of a <see cref="ModelObjective"/>'s samples: g_i = grad_theta loss(f(x_i; theta), y_i)
/// for the summed (not averaged) loss of sample i, so that the objective's gradient is (1/N) sum_i g_i. Each sample is
/// forwarded and differentiated on its own (a batch of one): the model is in evaluation mode, so a sample's output does
/// not depend on its batch, and one small backward per sample costs far less than N backwards through a batch graph.
/// </summary>
public sealed class ModelSampleGradients(ModelObjective objective) : ISampleGradients
{
    public long Dimension => objective.Dimension;
    public long SampleCount => objective.Data.SampleCount;

    public Tensor Project(Tensor directions)
    {
        if (directions.dim() != 2 || directions.shape[0] != Dimension)
            throw new ArgumentException($"Directions must be a {Dimension} x k matrix; got shape [{string.Join(", ", directions.shape)}].", nameof(directions));
        using var scope = NewDisposeScope();
        var v = directions.to(ScalarType.Float64).OnDevice(objective.Device);
        var rows = new List<Tensor>();
        for (int b = 0; b < objective.Data.BatchCount; b++)
        {
            var batch = objective.Data.GetBatch(b, objective.Device);
            for (long i = 0; i < batch.Count; i++)
            {
                using var sampleScope = NewDisposeScope();
                var output = objective.Forward(batch.Inputs.narrow(0, i, 1));
                var loss = SampleLoss.Sum(objective.Loss, output, batch.Targets.narrow(0, i, 1));
                var g = ParameterVector.Flatten(AutogradGuard.Gradient(loss, objective.Parameters)).to(ScalarType.Float64);
                rows.Add(g.unsqueeze(0).mm(v).MoveToOuterDisposeScope());
            }
        }
        return cat(rows.ToArray(), 0).cpu().MoveToOuterDisposeScope();
    }
}
