using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// The training objective of a model on a data source: L(theta) = (1/N) sum_i loss(f(x_i; theta), y_i), the mean
/// over ALL samples (not the mean of batch means, which is wrong when batches differ in size). The model is
/// put in evaluation mode and checked to still be in it at every term, because a Hessian of a model left in
/// training mode (dropout active, BatchNorm using batch statistics) is the Hessian of a different function.
/// Optionally restricted to a subset of the parameters (e.g. the classifier layer), named as in
/// <c>named_parameters()</c>.
/// The device follows the model: batches are taken from the source on the parameters' device.
/// </summary>
public sealed class ModelObjective : IObjective
{
    private readonly nn.Module<Tensor, Tensor> _model;

    public ModelObjective(nn.Module<Tensor, Tensor> model, LossKind loss, IBatchSource data, IReadOnlyCollection<string>? parameterNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.BatchCount == 0 || data.SampleCount == 0)
            throw new ArgumentException("The data source is empty: an objective needs at least one sample.", nameof(data));
        _model = model;
        Loss = loss;
        Data = data;
        var named = model.named_parameters().ToList();
        if (named.Count == 0) throw new ArgumentException("The model has no parameters.", nameof(model));
        if (parameterNames is not null)
        {
            var unknown = parameterNames.Where(n => named.All(p => p.name != n)).ToList();
            if (unknown.Count > 0)
                throw new ArgumentException($"Unknown parameter name(s): {string.Join(", ", unknown)}. The model has: {string.Join(", ", named.Select(p => p.name))}.", nameof(parameterNames));
            named = named.Where(p => parameterNames.Contains(p.name)).ToList();
            if (named.Count == 0) throw new ArgumentException("The parameter subset is empty.", nameof(parameterNames));
        }
        ParameterNames = named.Select(p => p.name).ToList();
        Parameters = named.Select(p => (Tensor)p.parameter).ToList();
        foreach (var (name, p) in named)
            if (!p.requires_grad) throw new ArgumentException($"Parameter '{name}' does not require grad.", nameof(model));
        Dtype = Parameters[0].dtype;
        if (Parameters.Any(p => p.dtype != Dtype))
            throw new ArgumentException("All differentiated parameters must share one dtype.", nameof(model));
        Device = ParameterPlacement.Of(Parameters, "The differentiated parameters").Device;
        Dimension = ParameterVector.CountEntries(Parameters);
        ParameterVector.EnsureFinite(Parameters, "Parameter");
        for (int b = 0; b < data.BatchCount; b++)
        {
            var batch = data.GetBatch(b);
            if (batch.Inputs.is_floating_point() && batch.Inputs.dtype != Dtype)
                throw new ArgumentException($"Batch {b} inputs are {batch.Inputs.dtype} but the parameters are {Dtype}.", nameof(data));
        }
        model.eval();
    }

    public LossKind Loss { get; }
    public IBatchSource Data { get; }
    public IReadOnlyList<string> ParameterNames { get; }
    public IReadOnlyList<Tensor> Parameters { get; }
    public long Dimension { get; }
    public ScalarType Dtype { get; }
    public Device Device { get; }
    public int TermCount => Data.BatchCount;

    /// <summary>The model's outputs on batch <paramref name="index"/>, in evaluation mode.</summary>
    public Tensor Outputs(int index) => Forward(Data.GetBatch(index, Device).Inputs);

    /// <summary>The model's outputs on the given inputs (on the parameters' device), in evaluation mode.</summary>
    public Tensor Forward(Tensor inputs)
    {
        if (_model.training)
            throw new InvalidOperationException("The model was switched to training mode after the objective was built; measures need evaluation mode (call model.eval()).");
        return _model.forward(inputs);
    }

    public Tensor Term(int index)
    {
        var batch = Data.GetBatch(index, Device);
        using var outputs = Outputs(index);
        return SampleLoss.Sum(Loss, outputs, batch.Targets) / (double)Data.SampleCount;
    }

    /// <summary>The objective's value, L(theta), as a double.</summary>
    public double Value() => ObjectiveValue.Of(this);
}
