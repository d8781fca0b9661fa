namespace Reproduce.Claims.Specs;

/// <summary>
/// A multiple-testing family: the set of tests whose p-values are adjusted together (Benjamini-Yekutieli). Membership
/// is fixed by the claim files (each names its family), never by which claims a run selected: the evaluator always
/// counts every test of every member (a test without data enters as p = 1, which can only make the adjustment more
/// conservative), so a verdict cannot move because an unrelated claim was added to or filtered out of a run.
/// </summary>
public sealed record ClaimFamily(string Name, string Description);

/// <summary>The families, by name. The paper adjusts its sharpness and its safety claims as two families; the
/// suite's own additions (variants, related work, the paper's condition claims, controls) each get a family of their
/// own so that they cannot dilute or inflate the paper's.</summary>
public static class ClaimFamilies
{
    public static readonly IReadOnlyList<ClaimFamily> All =
    [
        new("paper-sharpness", "The paper's claims 1-3 as it tested them: WD and Aug raise the Fisher-Rao norm, Aug raises relative flatness (computed as the paper's code does), SAM raises SAM sharpness."),
        new("paper-safety", "The paper's claims 4-9: test accuracy, generalisation gap, ECE, corruption accuracy, seed disagreement, and Aug+SAM best."),
        new("paper-conditions", "The paper's claims 10-13: tighter circles, harder target functions, the pooled sharpness-gap correlation, random labels."),
        new("sharpness-variants", "Reviewers' variants of claims 1-3: the same regimes measured by the Hessian's top eigenvalue and trace, adaptive sharpness, relative flatness by its definition, and curvature-only SAM sharpness."),
        new("matched-loss", "Confound controls for claims 1-3: the same regimes compared at a matched clean training loss (each run trained until it reaches its setting's trainLossTarget) instead of a matched budget, because cross-entropy curvature shrinks as a model grows confident and a regime that fits less reads as sharper for that reason alone."),
        new("condition-trends", "Claims 10 and 13 as monotone trends over ordered levels (ring factors 0.5 to 0.8, label-noise rates 0 to 0.5) instead of pairs: Kendall's S between level and metric within each seed, exact over seeds (kind 'trend')."),
        new("related-work", "Claims of the related work the paper argues with (large batch sharper, SWA flatter; GAM, ASAM, Frob-SAM and Trace-SAM reach flatter minima by their own measures; SWAD flatter than ERM and SWA and more robust to an unseen domain)."),
        new("controls", "Negative controls: regimes that differ by nothing that matters; every verdict here must be inconclusive."),
        new("exact", "Exact or bounded results (kind 'bound'), e.g. Dinh et al.'s function-preserving rescaling: each seed's value is held to an interval the theory implies. No statistical test, so no p-value and no multiple-testing adjustment."),
        new("gap-correlations", "Claim 12 with the paper's other measures (Fisher-Rao, SAM sharpness) on the same pool of minima, and the related work's correlation claims (adaptive sharpness, Andriushchenko et al. 2023): a family of its own, so that adding a measure's variant neither dilutes nor inflates the paper's claim 12."),
        new("matched-loss-related", "Confound controls for the related work's claims: the same comparison at a matched clean training loss (FAM's relative flatness, k02), and Base stopped at SWAD's fit (w04), in a family of their own so that they neither dilute nor inflate the paper's controls or the related work's claims."),
        new("incremental-few-shot", "F2M (Shi et al. 2021): in incremental few-shot learning, flat base training with sessions projected onto the flat box forgets the base classes less than standard base training plus fine-tuning, and its base model is flatter. A family of its own, so that it neither dilutes nor inflates the paper's or the other related work's."),
        new("federated", "FedSAM and FedASAM (Caldarola, Caputo, Ciccone 2022): FedAvg whose clients train locally with SAM or ASAM gives a flatter global model (the Hessian's top eigenvalue and trace) and a more accurate one than FedAvg with SGD clients, on label-skewed (non-IID) clients. A family of its own, so that it neither dilutes nor inflates the paper's or the other related work's."),
        new("grid-sharpness", "Issue 15.1's full grid, sharpness side: every regime (WD, SAM, WD+SAM; Aug and Aug+SAM on the CNN) against Base under every sharpness measure (SAM sharpness, Fisher-Rao, relative flatness, the Hessian's top eigenvalue and trace, adaptive sharpness) on the MLP and the CNN, adjusted together as the paper adjusts its sharpness family. A cell that a paper or variant claim also tests is tested again here on the same runs: the grid's adjusted p's belong to the grid, so it neither dilutes nor inflates the catalogue's families."),
        new("grid-safety", "Issue 15.1's full grid, safety side: every regime against Base on test accuracy, corruption accuracy, generalisation gap, ECE and seed disagreement, on the MLP and the CNN, adjusted together as the paper adjusts its safety family (its own family, for the same reason as grid-sharpness)."),
        new("function-targets", "Issue 15.3: claim 11 over all seven of the paper's 2-D targets, each fitted to the same relative train loss (1 - R^2), against the sphere, one claim per radius of the paper's SAM-sharpness curve (5e-4, 5e-3, 5e-2, 0.5): 24 tests in a family of their own, so that they neither dilute nor inflate paper-conditions (whose claim 11 compares Rastrigin with the sphere at an absolute train loss)."),
        new("federated-swa", "Caldarola et al.'s +SWA variants and their eigenvalue ratio: server-side SWA (FedAvg-SWA, FedSAM-SWA, FedASAM-SWA) gives a flatter (lambda_max, lambda_max/lambda_5) and more accurate global model than FedAvg, and FedSAM and FedASAM a lower lambda_max/lambda_5. A family of its own, so that fed01-fed02's adjusted p's do not move."),
        new("pool-correlations", "Claim 12 over a pool of minima from a grid of learning rates and batch sizes (the paper's Figure 1 construction, scaled down to the MLP): relative flatness, Fisher-Rao and the top eigenvalue against the gap. A family of its own, so that the pool neither dilutes nor inflates claim 12's regime pool (paper-conditions, gap-correlations)."),
        new("pool-correlations-cnn", "Claim 12 over the learning-rate x batch-size pool on the cnn setting (the paper's Figure 1 on its own model: ResNet-18 on CIFAR-10 at nightly, LeNet-5 at smoke), with augmentation in the pool: relative flatness, Fisher-Rao and the top eigenvalue against the gap. A family of its own, so that adding it leaves the MLP pool's adjusted p's (pool-correlations) and their baselines as they were."),
        new("aug-interpolating", "The paper's claims 2, 4, 5 and 6 on augmentation, on a LeNet budget at which crop-and-flip training fits its training set (cnn-aug-interpolating: 100 images, 400 epochs, cosine; issue 15.2), at the default profile. A family of its own, so that these claims neither dilute nor inflate the paper's families, where their originals on the cnn setting run at smoke and nightly."),
        new("label-noise-sgd", "Label-noise SGD (Blanc et al. 2020; Damian, Ma, Lee 2021; Li, Wang, Arora 2022): on a teacher-student regression, label noise lowers the Hessian trace along the zero-loss manifold. A family of its own, so that it neither dilutes nor inflates the paper's or the other related work's."),
        new("curvature-pool", "\"Flatness After All?\" (Shoham, Mor-Yosef, Avron 2025): over a pool of minima from different regimes, the soft rank of the curvature, and the damped TIC for models that are not calibrated, order the minima by their loss gap better than the top Hessian eigenvalue does (kind 'stronger-correlation'). A family of its own, so that it neither dilutes nor inflates the paper's or the other related work's."),
    ];

    public static IReadOnlyList<string> Names => [.. All.Select(f => f.Name)];

    public static ClaimFamily Get(string name) => All.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException($"Unknown family '{name}'. Valid: {string.Join(", ", Names)}.");
}

/// <summary>
/// A condition the runs must meet for a claim's test to mean what the claim says, e.g. "both sides at 99% train
/// accuracy" (the paper compares minima) or "fits within a factor 2 of each other's train loss" (claim 11's "equally
/// converged"). Checked on each side's median of <see cref="Metric"/>: at least <see cref="AtLeast"/>, at most
/// <see cref="AtMost"/>, and the larger median over the smaller at most <see cref="RatioAtMost"/>. A comparison that
/// misses one is "premise unmet" and counts neither way.
/// </summary>
public sealed record Premise(string Metric, double? AtLeast, double? AtMost, double? RatioAtMost, string Reason)
{
    public string Describe() => (AtLeast, AtMost, RatioAtMost) switch
    {
        ({ } lo, _, _) => $"median {Metric} >= {lo:g4} on each side",
        (_, { } hi, _) => $"median {Metric} <= {hi:g4} on each side",
        (_, _, { } ratio) => $"median {Metric} within a factor {ratio:g4} between the sides",
        _ => $"{Metric}",
    };
}
