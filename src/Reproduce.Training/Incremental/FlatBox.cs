using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Incremental;

/// <summary>
/// F2M's flat region (Shi et al. 2021; moukamisama/F2M methods/F2M_model.py optimize_parameters, base_model.py
/// clamp_range_params): the box of width b around the noised parameters P, its noise draws, the base-training
/// objective over them and the sessions' projection back into it.
/// </summary>
public static class FlatBox
{
    /// <summary>One noise draw for each parameter of P: every coordinate (u - 1/2) b with u = rand() uniform in [0, 1)
    /// from <paramref name="generator"/> (CPU, in the parameter's dtype), so in [-b/2, b/2). Draws are made in P's order.</summary>
    public static IReadOnlyList<Tensor> Draw(IReadOnlyList<Tensor> noised, double bound, Generator generator) =>
        [.. noised.Select(p => ((rand(p.shape, dtype: p.dtype, generator: generator) - 0.5) * bound).to(p.device))];

    /// <summary>The objective mean_j l_j + k std_j l_j, std with the n - 1 divisor (torch.std's default, as the code).</summary>
    public static double Objective(IReadOnlyList<double> losses, double stdCoefficient)
    {
        double mean = losses.Average();
        return mean + stdCoefficient * StandardDeviation(losses, mean);
    }

    /// <summary>
    /// The weights c_j with d/dtheta [mean_j l_j + k std_j l_j] = sum_j c_j grad l_j: d mean / d l_j = 1/M and, with
    /// s = sqrt(sum_j (l_j - mean)^2 / (M - 1)), d s / d l_j = (l_j - mean) / ((M - 1) s) (the mean's own dependence on
    /// l_j cancels because sum_j (l_j - mean) = 0). At s = 0 the std is not differentiable; its zero subgradient is taken
    /// (torch would return NaN there), so the step is then the mean's.
    /// </summary>
    public static double[] ObjectiveWeights(IReadOnlyList<double> losses, double stdCoefficient)
    {
        int m = losses.Count;
        if (m < 2) throw new ArgumentException("The objective's std needs at least two noise draws.", nameof(losses));
        double mean = losses.Average(), s = StandardDeviation(losses, mean);
        return [.. losses.Select(l => 1.0 / m + (s > 0 ? stdCoefficient * (l - mean) / ((m - 1) * s) : 0))];
    }

    private static double StandardDeviation(IReadOnlyList<double> losses, double mean) =>
        Math.Sqrt(losses.Sum(l => (l - mean) * (l - mean)) / (losses.Count - 1));

    /// <summary>
    /// The gradient of mean_j l_j + k std_j l_j left in the .grad of every parameter in <paramref name="parameters"/>
    /// (P and the rest): for each draw eps_j (one tensor per parameter of P), P is moved to theta + eps_j, the loss l_j
    /// taken and differentiated there (gradient through the noisy pass, as the code), its gradient kept, and P put back
    /// to theta bit for bit (a copy, not a subtraction); then .grad = sum_j c_j grad l_j (<see cref="ObjectiveWeights"/>).
    /// Each draw's graph is freed by its own backward before P is restored, so no graph sees P change. Returns the
    /// objective and the losses; a non-finite loss returns at once (the caller reports divergence, .grad is then unset).
    /// </summary>
    public static (double Objective, double[] Losses) Gradient(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> noised,
        IReadOnlyList<IReadOnlyList<Tensor>> draws, Func<Tensor> loss, double stdCoefficient)
    {
        using var scope = NewDisposeScope();
        var originals = noised.Select(p => p.detach().clone()).ToList();
        var gradients = new List<List<Tensor?>>();
        var losses = new double[draws.Count];
        for (int j = 0; j < draws.Count; j++)
        {
            foreach (var p in parameters) p.grad?.zero_();
            using (no_grad()) for (int i = 0; i < noised.Count; i++) noised[i].add_(draws[j][i]);
            var l = loss();
            losses[j] = l.detach().to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(losses[j]))
            {
                using (no_grad()) for (int i = 0; i < noised.Count; i++) noised[i].copy_(originals[i]);
                return (double.NaN, losses);
            }
            l.backward();
            gradients.Add([.. parameters.Select(p => p.grad?.clone())]);
            using (no_grad()) for (int i = 0; i < noised.Count; i++) noised[i].copy_(originals[i]);
        }
        var weights = ObjectiveWeights(losses, stdCoefficient);
        using (no_grad())
            for (int i = 0; i < parameters.Count; i++)
            {
                if (parameters[i].grad is not { } g) continue;
                g.zero_();
                for (int j = 0; j < draws.Count; j++)
                    if (gradients[j][i] is { } gj) g.add_(gj, alpha: weights[j]);
            }
        return (Objective(losses, stdCoefficient), losses);
    }

    /// <summary>
    /// The sessions' projection onto the flat box: each coordinate of each parameter of P clamped to
    /// [anchor - b/2, anchor + b/2] (the bounds computed in the parameter's dtype, as the code's p_origin +- bound/2), so
    /// |theta - theta*| &lt;= b/2 up to the rounding of those bounds. In place, outside autograd.
    /// </summary>
    public static void Project(IReadOnlyList<Tensor> noised, IReadOnlyList<Tensor> anchors, double bound)
    {
        if (noised.Count != anchors.Count) throw new ArgumentException($"{noised.Count} parameters but {anchors.Count} anchors.", nameof(anchors));
        using var scope = NewDisposeScope();
        using (no_grad())
            for (int i = 0; i < noised.Count; i++)
                noised[i].copy_(minimum(maximum(noised[i], anchors[i] - bound / 2), anchors[i] + bound / 2));
    }
}
