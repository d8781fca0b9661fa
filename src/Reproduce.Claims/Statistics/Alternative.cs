namespace Reproduce.Claims.Statistics;

/// <summary>The one-sided alternative: the treatment's values are greater (or less) than the baseline's.</summary>
public enum Alternative { Greater, Less }

/// <summary>Two-sided p-values from one-sided ones.</summary>
public static class TwoSided
{
    /// <summary>min(1, 2 min(p, pOpposite)) from the two one-sided p's of one test; NaN (no test) stays NaN.</summary>
    public static double FromOneSided(double p, double pOpposite) => double.IsNaN(p) ? double.NaN : Math.Min(1.0, 2 * Math.Min(p, pOpposite));
}
