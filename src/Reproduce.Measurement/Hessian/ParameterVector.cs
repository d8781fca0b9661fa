using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>Flattening between a list of parameter-shaped tensors and one 1-D vector (PyTorch's parameters_to_vector).</summary>
public static class ParameterVector
{
    public static long CountEntries(IReadOnlyList<Tensor> tensors) => tensors.Sum(t => t.numel());

    /// <summary>Concatenates the flattened tensors into one 1-D tensor.</summary>
    public static Tensor Flatten(IReadOnlyList<Tensor> tensors) => cat(tensors.Select(t => t.reshape(-1)).ToArray(), 0);

    /// <summary>Splits a 1-D vector into views shaped like <paramref name="like"/>. The vector's length is checked first.</summary>
    public static Tensor[] Unflatten(Tensor vector, IReadOnlyList<Tensor> like)
    {
        long n = CountEntries(like);
        if (vector.dim() != 1 || vector.shape[0] != n)
            throw new ArgumentException($"Expected a 1-D vector of length {n}; got shape [{string.Join(", ", vector.shape)}].", nameof(vector));
        var parts = new Tensor[like.Count];
        long offset = 0;
        for (int i = 0; i < like.Count; i++)
        {
            long size = like[i].numel();
            parts[i] = vector.narrow(0, offset, size).view(like[i].shape);
            offset += size;
        }
        return parts;
    }

    /// <summary>Throws <see cref="NonFiniteValueException"/> if any tensor holds NaN or Inf.</summary>
    public static void EnsureFinite(IReadOnlyList<Tensor> tensors, string what)
    {
        using var _ = NewDisposeScope();
        for (int i = 0; i < tensors.Count; i++)
            if (tensors[i].is_floating_point() && !tensors[i].detach().isfinite().all().item<bool>())
                throw new NonFiniteValueException($"{what} {i} (shape [{string.Join(", ", tensors[i].shape)}]) contains NaN or Inf.");
    }
}
