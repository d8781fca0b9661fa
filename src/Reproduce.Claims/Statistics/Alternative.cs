namespace Reproduce.Claims.Statistics;

/// <summary>The one-sided alternative: the treatment's values are greater (or less) than the baseline's.</summary>
public enum Alternative { Greater, Less }
