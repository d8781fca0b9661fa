using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>
/// A scalar objective L(theta) over a list of parameter tensors, written as a sum of terms
/// L = sum_t L_t (one term per batch for a data objective). Splitting into terms lets the Hessian operator
/// run one batch at a time with bounded memory while still differentiating the exact full objective.
/// </summary>
public interface IObjective
{
    /// <summary>The tensors differentiated against (leaf tensors with requires_grad).</summary>
    IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>Total number of scalar entries in <see cref="Parameters"/>: the Hessian is Dimension x Dimension.</summary>
    long Dimension { get; }

    ScalarType Dtype { get; }

    /// <summary>The device of <see cref="Parameters"/>: every vector in parameter space lives there.</summary>
    Device Device { get; }

    int TermCount { get; }

    /// <summary>Term <paramref name="index"/> as a scalar with its autograd graph; the caller owns and disposes it.</summary>
    Tensor Term(int index);
}
