using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>An objective given directly as a loss function of its parameter tensors (one term), e.g. a matrix factorisation.</summary>
public sealed class FunctionObjective : IObjective
{
    private readonly Func<Tensor> _loss;

    public FunctionObjective(IReadOnlyList<Tensor> parameters, Func<Tensor> loss)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("An objective needs at least one parameter tensor.", nameof(parameters));
        if (parameters.Any(p => !p.requires_grad)) throw new ArgumentException("Every parameter tensor must require grad.", nameof(parameters));
        Dtype = parameters[0].dtype;
        if (parameters.Any(p => p.dtype != Dtype)) throw new ArgumentException("All parameter tensors must share one dtype.", nameof(parameters));
        Device = ParameterPlacement.Of(parameters, "The objective").Device;
        ParameterVector.EnsureFinite(parameters, "Parameter");
        Parameters = parameters;
        Dimension = ParameterVector.CountEntries(parameters);
        _loss = loss ?? throw new ArgumentNullException(nameof(loss));
    }

    public IReadOnlyList<Tensor> Parameters { get; }
    public long Dimension { get; }
    public ScalarType Dtype { get; }
    public Device Device { get; }
    public int TermCount => 1;

    public Tensor Term(int index) => index == 0 ? _loss() : throw new ArgumentOutOfRangeException(nameof(index));
}
