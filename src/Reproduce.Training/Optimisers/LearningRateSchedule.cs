namespace Reproduce.Training.Optimisers;

/// <summary>
/// Learning rate as a function of the step: "constant", or "cosine" (annealing without restarts to zero over the
/// run, evaluated per step): lr_t = lr_0 (1 + cos(pi t / T)) / 2, t = 0..T-1.
/// </summary>
public static class LearningRateSchedule
{
    public static readonly IReadOnlyList<string> Names = ["constant", "cosine"];

    public static double At(string schedule, double baseRate, long step, long totalSteps) => schedule switch
    {
        "constant" => baseRate,
        "cosine" => totalSteps <= 0 ? baseRate : baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, totalSteps) / totalSteps)),
        _ => throw new ArgumentException($"Unknown learning-rate schedule '{schedule}'. Valid: {string.Join(", ", Names)}."),
    };
}
