using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>A symmetric dense matrix as an operator: the exact reference for eigensolver and trace tests. Its vectors live on the matrix's device.</summary>
public sealed class MatrixOperator : ILinearOperator, IDisposable
{
    private readonly Tensor _matrix;

    public MatrixOperator(Tensor matrix)
    {
        if (matrix.dim() != 2 || matrix.shape[0] != matrix.shape[1])
            throw new ArgumentException($"A matrix operator needs a square matrix; got shape [{string.Join(", ", matrix.shape)}].", nameof(matrix));
        ParameterVector.EnsureFinite(new[] { matrix }, "Matrix");
        _matrix = matrix.detach().clone().DetachFromDisposeScope();
        Device = _matrix.device;
    }

    public long Dimension => _matrix.shape[0];
    public ScalarType Dtype => _matrix.dtype;
    public Device Device { get; }
    public long ApplyCount { get; private set; }

    public Tensor Apply(Tensor v)
    {
        OperatorInput.Check(this, v);
        ApplyCount++;
        return _matrix.mv(v);
    }

    public void Dispose() => _matrix.Dispose();
}
