namespace Reproduce.Claims.Statistics;

/// <summary>
/// The standard normal distribution's upper tail, Q(z) = P(Z &gt; z) = erfc(z / sqrt 2) / 2. .NET has no erfc;
/// this is the complementary error function by Chebyshev fitting (Numerical Recipes, 3rd ed., section 6.2,
/// "erfccheb"), relative error below 1.2e-16 for the tails p-values use.
/// </summary>
public static class NormalDistribution
{
    private static readonly double[] Coefficients =
    [
        -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
        3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.303655835580e-6,
        1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
        9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
        -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
    ];

    /// <summary>erfc(z) for z &gt;= 0 by the Chebyshev expansion.</summary>
    private static double ErfcNonNegative(double z)
    {
        double t = 2.0 / (2.0 + z), ty = 4.0 * t - 2.0, d = 0.0, dd = 0.0;
        for (int j = Coefficients.Length - 1; j > 0; j--)
        {
            double tmp = d;
            d = ty * d - dd + Coefficients[j];
            dd = tmp;
        }
        return t * Math.Exp(-z * z + 0.5 * (Coefficients[0] + ty * d) - dd);
    }

    public static double Erfc(double x) => x >= 0 ? ErfcNonNegative(x) : 2.0 - ErfcNonNegative(-x);

    /// <summary>P(Z &gt; z).</summary>
    public static double UpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    /// <summary>P(Z &lt;= z).</summary>
    public static double Cdf(double z) => UpperTail(-z);
}
