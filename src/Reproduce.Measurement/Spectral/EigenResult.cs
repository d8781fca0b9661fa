using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// Eigenvalue estimates with what is needed to trust them: residual norms ||A v - lambda v|| (for Lanczos the
/// Ritz estimate |beta_m s_mi|, exact up to rounding under full reorthogonalisation), the number of operator
/// applications spent, the iterations, and whether every requested pair met the tolerance.
/// Values are ordered from the requested end inwards (largest first for the top, smallest first for the bottom).
/// </summary>
public sealed record EigenResult(
    double[] Values,
    double[] ResidualNorms,
    long ApplyCount,
    int Iterations,
    bool Converged,
    string Method) : IDisposable
{
    /// <summary>Unit eigenvector estimates as the columns of an n x k float64 tensor on the operator's device, when requested.</summary>
    public Tensor? Vectors { get; init; }

    public void Dispose() => Vectors?.Dispose();
}
