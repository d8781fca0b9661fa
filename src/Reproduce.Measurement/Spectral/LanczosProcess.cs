using TorchSharp;
using Reproduce.Measurement.Hessian;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// The Lanczos recurrence with full reorthogonalisation (classical Gram–Schmidt applied twice, "twice is
/// enough"), in float64 whatever the operator's dtype. After m steps, A Q_m = Q_m T_m + beta_m q_{m+1} e_m^T
/// with T_m tridiagonal (alpha on the diagonal, beta off it). Full reorthogonalisation costs O(n m) memory and
/// O(n m^2) time but removes the ghost eigenvalues of the plain three-term recurrence, which matter here
/// because spectra of trained networks are dominated by a few outliers above a dense bulk.
/// The basis lives on the operator's device; the tridiagonal T_m is assembled in host memory from the recorded
/// alpha and beta (it is tiny), so its eigendecomposition runs on the CPU whatever the device.
/// </summary>
internal sealed class LanczosProcess : IDisposable
{
    private readonly ILinearOperator _op;
    private readonly Tensor _basis;          // n x capacity, columns q_0 .. q_{Steps-1}
    private Tensor _next;                    // the unnormalised next direction r_m = beta_m q_{m+1}
    private readonly List<double> _alpha = new();
    private readonly List<double> _beta = new();   // _beta[j] couples q_j and q_{j+1}

    public LanczosProcess(ILinearOperator op, Tensor start, int capacity)
    {
        _op = op;
        long n = op.Dimension;
        if (capacity < 1 || capacity > n) throw new ArgumentOutOfRangeException(nameof(capacity), $"Lanczos capacity must lie in [1, {n}].");
        _basis = zeros(n, capacity, dtype: ScalarType.Float64, device: op.Device).DetachFromDisposeScope();
        // The start vector may be a CPU draw: it is moved to the operator's device (the identity on the CPU).
        start = start.OnDevice(op.Device);
        double norm = start.norm().item<double>();
        if (!(norm > 0) || !double.IsFinite(norm)) throw new ArgumentException("The Lanczos start vector must be finite and non-zero.", nameof(start));
        _next = (start.to(ScalarType.Float64) / norm).DetachFromDisposeScope();
        Capacity = capacity;
    }

    public int Capacity { get; }
    public int Steps => _alpha.Count;
    public IReadOnlyList<double> Alpha => _alpha;
    public IReadOnlyList<double> Beta => _beta;
    /// <summary>beta_m: the norm of the residual direction after the last step (0 at an invariant subspace).</summary>
    public double LastBeta { get; private set; }
    public long ApplyCount { get; private set; }

    /// <summary>Columns 0 .. Steps-1 of the orthonormal basis (a view; valid until disposal).</summary>
    public Tensor Basis => _basis.narrow(1, 0, Steps);

    /// <summary>The operator's input for the next step: the pending direction q_m in the operator's dtype.</summary>
    public Tensor Pending() => _next.to(_op.Dtype);

    /// <summary>One Lanczos step from the pending direction. Call only when Steps &lt; Capacity.</summary>
    public void Step() => Step(null);

    /// <summary>
    /// One Lanczos step given <paramref name="product"/> = A <see cref="Pending"/>() computed by the caller (several
    /// processes can then share a block product, <see cref="ILinearOperator.ApplyBlock"/>); null applies the operator here.
    /// </summary>
    public void Step(Tensor? product)
    {
        if (Steps >= Capacity) throw new InvalidOperationException("The Lanczos basis is full.");
        using var scope = NewDisposeScope();
        int j = Steps;
        var q = _next;
        _basis[TensorIndex.Colon, TensorIndex.Single(j)] = q;
        var w = (product ?? _op.Apply(q.to(_op.Dtype))).to(ScalarType.Float64);
        ApplyCount++;
        if (!w.isfinite().all().item<bool>()) throw new NonFiniteValueException($"The operator returned NaN or Inf at Lanczos step {j}.");
        double alpha = q.dot(w).item<double>();
        var qj = _basis.narrow(1, 0, j + 1);
        // w <- (I - Q Q^T) w, twice.
        w = w - qj.mv(qj.t().mv(w));
        w = w - qj.mv(qj.t().mv(w));
        double beta = w.norm().item<double>();
        _alpha.Add(alpha);
        _beta.Add(beta);
        LastBeta = beta;
        var old = _next;
        _next = (beta > 0 ? w / beta : w).DetachFromDisposeScope();
        old.Dispose();
    }

    /// <summary>
    /// At an invariant subspace (beta ~ 0), continue from a fresh random direction orthogonal to the basis, so
    /// that eigenvalues outside the subspace (including further copies of repeated ones) can still be found.
    /// T becomes block diagonal: the coupling to the new block is exactly zero. Returns false if the basis
    /// already spans the whole space.
    /// </summary>
    public bool Restart(Generator generator)
    {
        using var scope = NewDisposeScope();
        var qj = Basis;
        var r = randn(_op.Dimension, dtype: ScalarType.Float64, generator: generator).OnDevice(_op.Device);
        r = r - qj.mv(qj.t().mv(r));
        r = r - qj.mv(qj.t().mv(r));
        double norm = r.norm().item<double>();
        if (norm < 1e-10) return false;
        _beta[^1] = 0.0;
        LastBeta = 0.0;
        var old = _next;
        _next = (r / norm).DetachFromDisposeScope();
        old.Dispose();
        return true;
    }

    /// <summary>The tridiagonal T_m (Steps x Steps, float64).</summary>
    public Tensor Tridiagonal()
    {
        int m = Steps;
        var data = new double[m * m];
        for (int i = 0; i < m; i++)
        {
            data[i * m + i] = _alpha[i];
            if (i + 1 < m) { data[i * m + i + 1] = _beta[i]; data[(i + 1) * m + i] = _beta[i]; }
        }
        return tensor(data, new long[] { m, m }, dtype: ScalarType.Float64);
    }

    public void Dispose()
    {
        _basis.Dispose();
        _next.Dispose();
    }
}
