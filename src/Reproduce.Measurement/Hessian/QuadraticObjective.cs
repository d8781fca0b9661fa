using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// L(x) = 1/2 x^T A x + b^T x with symmetric A, so grad L = A x + b and the Hessian is exactly A. Posed as an
/// objective so that tests exercise the full double-backward path on a problem whose answer is known.
/// </summary>
public sealed class QuadraticObjective : IObjective, IDisposable
{
    private readonly Tensor _a, _b, _x;

    public QuadraticObjective(Tensor a, Tensor b, Tensor x0)
    {
        if (a.dim() != 2 || a.shape[0] != a.shape[1])
            throw new ArgumentException($"A must be square; got shape [{string.Join(", ", a.shape)}].", nameof(a));
        long n = a.shape[0];
        if (b.dim() != 1 || b.shape[0] != n)
            throw new ArgumentException($"b must be a vector of length {n}; got shape [{string.Join(", ", b.shape)}].", nameof(b));
        if (x0.dim() != 1 || x0.shape[0] != n)
            throw new ArgumentException($"x0 must be a vector of length {n}; got shape [{string.Join(", ", x0.shape)}].", nameof(x0));
        if (a.dtype != b.dtype || a.dtype != x0.dtype)
            throw new ArgumentException("A, b and x0 must share one dtype.");
        if (!DeviceTransfer.Same(a.device, b.device) || !DeviceTransfer.Same(a.device, x0.device))
            throw new ArgumentException($"A, b and x0 must live on one device; got {a.device}, {b.device} and {x0.device}.");
        ParameterVector.EnsureFinite(new[] { a, b, x0 }, "Quadratic input");
        _a = a.detach().clone().DetachFromDisposeScope();
        _b = b.detach().clone().DetachFromDisposeScope();
        _x = x0.detach().clone().requires_grad_(true).DetachFromDisposeScope();
        Parameters = new[] { _x };
        Dimension = n;
        Dtype = a.dtype;
        Device = a.device;
    }

    public IReadOnlyList<Tensor> Parameters { get; }
    public long Dimension { get; }
    public ScalarType Dtype { get; }
    public Device Device { get; }
    public int TermCount => 1;

    public Tensor Term(int index)
    {
        if (index != 0) throw new ArgumentOutOfRangeException(nameof(index));
        return 0.5 * _x.dot(_a.mv(_x)) + _b.dot(_x);
    }

    public void Dispose() { _a.Dispose(); _b.Dispose(); _x.Dispose(); }
}
