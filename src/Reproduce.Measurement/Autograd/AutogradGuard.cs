using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Autograd;

/// <summary>
/// The one door to <c>torch.autograd.grad</c>. libtorch's native grad is not wrapped in TorchSharp's
/// exception bridge: a non-scalar output, a freed graph, an unused input or anomaly mode meeting NaN
/// terminates the whole process. Every call in this library goes through here, where those cases become
/// ordinary .NET exceptions before the native call is made.
/// </summary>
public static class AutogradGuard
{
    /// <summary>
    /// d output / d inputs for a scalar output. With <paramref name="createGraph"/> the result carries a graph
    /// for a further derivative (double backward).
    /// The graph is ALWAYS retained (TorchSharp's default retain_graph is false, even with create_graph):
    /// graphs share saved tensors (x*x*x and its derivative do), so freeing one after a grad call can leave
    /// another graph dangling, and the next grad through it aborts the process. Retained buffers are released
    /// when the tensors that hold the graph are disposed, which our dispose scopes do at the end of each term.
    /// Inputs that the output does not depend on get an exact zero gradient (not an abort).
    /// </summary>
    public static Tensor[] Gradient(Tensor output, IReadOnlyList<Tensor> inputs, bool createGraph = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("Gradient needs at least one input tensor.", nameof(inputs));
        if (output.numel() != 1)
            throw new ArgumentException($"Gradient needs a scalar output; got shape [{string.Join(", ", output.shape)}]. Reduce it (sum or mean) first.", nameof(output));
        if (!output.requires_grad)
            throw new InvalidOperationException("The output does not require grad: it was computed without autograd (no_grad, detached tensors, or inputs without requires_grad).");
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"Input {i} is null.");
            if (!inputs[i].requires_grad) throw new ArgumentException($"Input {i} (shape [{string.Join(", ", inputs[i].shape)}]) does not require grad.", nameof(inputs));
        }
        double value = output.detach().to(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value))
            throw new NonFiniteValueException($"Cannot differentiate a non-finite output ({value}). The loss diverged or the parameters or data contain NaN/Inf.");

        var grads = torch.autograd.grad(new[] { output }, inputs.ToArray(), retain_graph: true, create_graph: createGraph, allow_unused: true);
        var result = new Tensor[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
            result[i] = IsUndefined(grads[i]) ? zeros_like(inputs[i]) : grads[i];
        return result;
    }

    // allow_unused yields an undefined tensor (an empty native handle) for an unused input.
    private static bool IsUndefined(Tensor t)
    {
        try { return t.Handle == IntPtr.Zero; }
        catch (InvalidOperationException) { return true; }
    }
}
