using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Support;

/// <summary>
/// Independent references computed straight from torch.autograd on the whole data set in one batch with
/// PyTorch's own mean reduction: no code of the library under test is on this path.
/// </summary>
public static class AutogradOracle
{
    public static Tensor FullLoss(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, bool crossEntropy)
    {
        var f = model.forward(x);
        return crossEntropy ? nn.functional.cross_entropy(f, y) : nn.functional.mse_loss(f, y);
    }

    /// <summary>The dense Hessian, row by row: H[i, :] = d g_i / d theta with g = grad L (create_graph).</summary>
    public static Tensor DenseHessian(Func<Tensor> loss, IReadOnlyList<Tensor> parameters)
    {
        var l = loss();
        var grads = torch.autograd.grad(new[] { l }, parameters.ToArray(), retain_graph: true, create_graph: true);
        var g = cat(grads.Select(t => t.reshape(-1)).ToArray(), 0);
        long n = g.shape[0];
        var rows = new Tensor[n];
        for (long i = 0; i < n; i++)
        {
            var r = torch.autograd.grad(new[] { g[i] }, parameters.ToArray(), retain_graph: true, allow_unused: true);
            rows[i] = cat(r.Select((t, k) => Defined(t) ? t.reshape(-1) : zeros(parameters[k].numel(), dtype: ScalarType.Float64, device: parameters[k].device)).ToArray(), 0);
        }
        return stack(rows, 0);
    }

    public static Tensor Gradient(Func<Tensor> loss, IReadOnlyList<Tensor> parameters)
    {
        var grads = torch.autograd.grad(new[] { loss() }, parameters.ToArray());
        return cat(grads.Select(t => t.reshape(-1)).ToArray(), 0);
    }

    /// <summary>Jacobian of the flattened model output f(x) (N*C entries) with respect to the flattened parameters.</summary>
    public static Tensor Jacobian(nn.Module<Tensor, Tensor> model, Tensor x, IReadOnlyList<Tensor> parameters)
    {
        var f = model.forward(x).reshape(-1);
        var rows = new Tensor[f.shape[0]];
        for (long i = 0; i < f.shape[0]; i++)
        {
            var r = torch.autograd.grad(new[] { f[i] }, parameters.ToArray(), retain_graph: true, allow_unused: true);
            rows[i] = cat(r.Select((t, k) => Defined(t) ? t.reshape(-1) : zeros(parameters[k].numel(), dtype: ScalarType.Float64, device: parameters[k].device)).ToArray(), 0);
        }
        return stack(rows, 0);
    }

    private static bool Defined(Tensor t)
    {
        try { return t.Handle != IntPtr.Zero; } catch (InvalidOperationException) { return false; }
    }
}
