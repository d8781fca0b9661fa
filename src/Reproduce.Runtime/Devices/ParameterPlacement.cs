using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Runtime.Devices;

/// <summary>
/// Where a model's parameters live and in which floating-point dtype: the device and dtype every vector, probe,
/// matrix and batch that meets those parameters must have (curvlinops' <c>_infer_device</c> / <c>_infer_dtype</c>).
/// The device follows the model: nothing in the measurement library picks a device of its own; operators, objectives
/// and measures read it from the parameters they act on.
/// </summary>
public sealed record ParameterPlacement(Device Device, ScalarType Dtype)
{
    /// <summary>The placement of a module's parameters; an error if it has none or they are split across devices or dtypes.</summary>
    public static ParameterPlacement Of(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Of(module.parameters().Select(p => (Tensor)p).ToList(), $"The model '{module.GetName()}'");
    }

    /// <summary>
    /// The placement of a list of parameter tensors: the device they all share and the dtype their floating-point
    /// members share. <paramref name="owner"/> names them in errors.
    /// </summary>
    public static ParameterPlacement Of(IReadOnlyList<Tensor> parameters, string owner = "The parameters")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException($"{owner} has no parameters, so it has no device or dtype.", nameof(parameters));
        var device = parameters[0].device;
        for (int i = 1; i < parameters.Count; i++)
            if (!DeviceTransfer.Same(parameters[i].device, device))
                throw new ArgumentException($"{owner}: parameter {i} is on {parameters[i].device} but parameter 0 is on {device}; move the whole model to one device.", nameof(parameters));
        var floating = parameters.Where(p => p.is_floating_point()).ToList();
        if (floating.Count == 0) throw new ArgumentException($"{owner} has no floating-point parameters.", nameof(parameters));
        var dtype = floating[0].dtype;
        if (floating.Any(p => p.dtype != dtype))
            throw new ArgumentException($"{owner}: floating-point parameters mix {string.Join(" and ", floating.Select(p => p.dtype).Distinct())}; all must share one dtype.", nameof(parameters));
        return new ParameterPlacement(device, dtype);
    }
}
