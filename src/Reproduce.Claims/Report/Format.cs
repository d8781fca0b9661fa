using System.Globalization;

namespace Reproduce.Claims.Report;

internal static class Format
{
    public static string Number(double v) => double.IsNaN(v) ? "–" : Math.Abs(v) >= 1e4 || (Math.Abs(v) < 1e-3 && v != 0) ? v.ToString("0.00e0", CultureInfo.InvariantCulture) : v.ToString("0.####", CultureInfo.InvariantCulture);
    public static string P(double p) => double.IsNaN(p) ? "–" : p < 1e-4 ? p.ToString("0.0e0", CultureInfo.InvariantCulture) : p.ToString("0.0000", CultureInfo.InvariantCulture);
}
