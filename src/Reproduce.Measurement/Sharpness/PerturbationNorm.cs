namespace Reproduce.Measurement.Sharpness;

/// <summary>The ball of a worst-case perturbation: Euclidean (l2) or box (l-infinity).</summary>
public enum PerturbationNorm { L2, LInfinity }
