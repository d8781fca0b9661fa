namespace Reproduce.Claims.Metrics;

/// <summary>
/// A named, fully specified measurement (its options are part of the name, so a stored value always means one thing).
/// Better: which direction is better for a safety metric ("higher"/"lower"); sharpness metrics have none.
/// </summary>
public sealed record MetricDefinition(string Name, string Family, string? Better, string Description, bool PerGroup = false);

/// <summary>Every metric a claim may name.</summary>
public static class MetricCatalog
{
    public static readonly IReadOnlyList<MetricDefinition> All =
    [
        new("test_accuracy", "safety", "higher", "accuracy on the test subset (evaluation mode)"),
        new("train_loss", "safety", "lower", "mean loss on the training subset (evaluation mode; MSE for regression settings)"),
        new("test_loss", "safety", "lower", "mean loss on the test subset (evaluation mode; MSE for regression settings)"),
        new("train_accuracy", "safety", "higher", "accuracy on the training subset (evaluation mode)"),
        new("train_confidence", "safety", "higher", "mean top-label probability on the training subset (evaluation mode): the confound of cross-entropy curvature"),
        new("gradient_norm", "safety", "lower", "norm of the training-loss gradient on the measure subset at the final weights"),
        new("generalisation_gap", "safety", "lower", "100 x (train accuracy - test accuracy), percentage points"),
        new("test_nll", "safety", "lower", "negative log-likelihood on the test subset"),
        new("test_brier", "safety", "lower", "Brier score on the test subset"),
        new("ece", "safety", "lower", "top-label ECE, 15 equal-width bins, L1 (torchmetrics convention), test subset"),
        new("ece_equal_mass", "safety", "lower", "top-label ECE, 15 equal-mass bins, test subset"),
        new("corruption_accuracy", "safety", "higher", "mean accuracy over 12 corruptions x 5 severities (robustness subset)"),
        new("pgd_accuracy", "safety", "higher", "accuracy under l-inf PGD, eps 0.05 in pixel units, 10 steps, random start (robustness subset)"),
        new("disagreement", "safety", "lower", "mean test-set prediction disagreement with the other seeds of the same regime", PerGroup: true),
        new("js_divergence", "safety", "lower", "mean Jensen-Shannon divergence (nats) with the other seeds of the same regime", PerGroup: true),
        new("sam_sharpness", "sharpness", null, "the paper's SAM sharpness: mean |L(w + rho z / sqrt P) - L(w)| / rho, rho 0.005, state incl. BN buffers"),
        new("sam_sharpness_curvature", "sharpness", null, "SAM sharpness without its first-order term: mean (L(w + d) + L(w - d) - 2 L(w)) / (2 rho) over the same draws d = rho z / sqrt P"),
        new("fisher_rao", "sharpness", null, "Fisher-Rao norm, analytic CE form, Liang et al.'s factor D"),
        new("fisher_rao_paper", "sharpness", null, "Fisher-Rao norm with the paper's code's factor D + 1"),
        new("relative_flatness", "sharpness", null, "relative flatness, classifier layer, sigma-normalised features, mean over samples, clean data"),
        new("relative_flatness_paper", "sharpness", null, "relative flatness as the paper's code: summed over batches of 128, augmented data for augmented regimes"),
        new("hessian_top_eigenvalue", "sharpness", null, "largest Hessian eigenvalue of the training loss on the measure subset (Lanczos)"),
        new("hessian_trace", "sharpness", null, "Hessian trace of the training loss on the measure subset (Hutchinson, Rademacher)"),
        new("adaptive_sharpness", "sharpness", null, "adaptive worst-case l2 sharpness, rho 0.1, 10 ascent steps (Andriushchenko et al. 2023)"),
        new("epsilon_sharpness", "sharpness", null, "Keskar et al.'s epsilon-sharpness in percent, eps 1e-3, 10 sign-ascent steps in the box"),
    ];

    public static IReadOnlyList<string> Names => [.. All.Select(m => m.Name)];

    public static MetricDefinition Get(string name) => All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"Unknown metric '{name}'. Valid: {string.Join(", ", Names)}.");
}
