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
    // Outputs already differentiated without retain_graph: their graph buffers are freed, and a second
    // grad through them would abort the process.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Tensor, object> Consumed = new();

    /// <summary>
    /// d output / d inputs for a scalar output. With <paramref name="createGraph"/> the result carries a graph
    /// for a further derivative (double backward); the graph of <paramref name="output"/> is then retained,
    /// because TorchSharp's default retain_graph is false even when create_graph is true.
    /// Inputs that the output does not depend on get an exact zero gradient (not an abort).
    /// </summary>
    public static Tensor[] Gradient(Tensor output, IReadOnlyList<Tensor> inputs, bool createGraph = false, bool retainGraph = false)
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
        if (Consumed.TryGetValue(output, out _))
            throw new InvalidOperationException("This output's graph was already used by a gradient call without retain_graph, so its buffers are freed. Recompute the output, or pass retainGraph: true on the earlier call.");
        double value = output.detach().to(ScalarType.Float64).item<double>();
        if (!double.IsFinite(value))
            throw new NonFiniteValueException($"Cannot differentiate a non-finite output ({value}). The loss diverged or the parameters or data contain NaN/Inf.");

        bool retain = retainGraph || createGraph;
        var grads = torch.autograd.grad(new[] { output }, inputs.ToArray(), retain_graph: retain, create_graph: createGraph, allow_unused: true);
        if (!retain) Consumed.AddOrUpdate(output, Boxed);
        var result = new Tensor[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
            result[i] = IsUndefined(grads[i]) ? zeros_like(inputs[i]) : grads[i];
        return result;
    }

    private static readonly object Boxed = new();

    // allow_unused yields an undefined tensor (an empty native handle) for an unused input.
    private static bool IsUndefined(Tensor t)
    {
        try { return t.Handle == IntPtr.Zero; }
        catch (InvalidOperationException) { return true; }
    }
}
