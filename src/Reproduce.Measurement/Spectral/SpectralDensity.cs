namespace Reproduce.Measurement.Spectral;

/// <summary>
/// A spectral density estimate from stochastic Lanczos quadrature: for each probe v (unit norm), the Gauss
/// quadrature nodes theta_i (eigenvalues of T_m) and weights w_i (squared first components of T_m's
/// eigenvectors), so that sum_i w_i g(theta_i) ~ v^T g(A) v, exactly for polynomials g of degree &lt;= 2m-1.
/// Weights of each probe sum to 1. The density is phi(t) = (1/probes) sum_probes sum_i w_i N(t; theta_i, sigma^2).
/// </summary>
public sealed record SpectralDensity(IReadOnlyList<double[]> Nodes, IReadOnlyList<double[]> Weights, long ApplyCount, long Dimension)
{
    /// <summary>Gaussian-broadened density on the given grid (integrates to ~1 over a wide enough grid).</summary>
    public double[] Density(IReadOnlyList<double> grid, double sigma)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Broadening sigma must be positive.");
        var density = new double[grid.Count];
        double norm = 1.0 / (Nodes.Count * sigma * Math.Sqrt(2 * Math.PI));
        for (int p = 0; p < Nodes.Count; p++)
            for (int i = 0; i < Nodes[p].Length; i++)
                for (int g = 0; g < grid.Count; g++)
                {
                    double z = (grid[g] - Nodes[p][i]) / sigma;
                    density[g] += Weights[p][i] * Math.Exp(-0.5 * z * z) * norm;
                }
        return density;
    }

    /// <summary>Estimate of tr(A^j) / n: the mean over probes of sum_i w_i theta_i^j.</summary>
    public double NormalisedMoment(int j) =>
        Enumerable.Range(0, Nodes.Count).Average(p => Nodes[p].Zip(Weights[p], (t, w) => w * Math.Pow(t, j)).Sum());

    /// <summary>A grid from just below the smallest node to just above the largest.</summary>
    public double[] Grid(int points, double margin)
    {
        double lo = Nodes.SelectMany(x => x).Min() - margin, hi = Nodes.SelectMany(x => x).Max() + margin;
        return Enumerable.Range(0, points).Select(i => lo + (hi - lo) * i / (points - 1)).ToArray();
    }
}
