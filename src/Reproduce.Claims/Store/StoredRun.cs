namespace Reproduce.Claims.Store;

/// <summary>
/// A finished training run as stored: identity, outcome and provenance. How well it fits its training set is in its
/// metrics (train_loss, train_accuracy, always measured), not here: the runs table's final_train_loss and
/// final_train_accuracy columns duplicated them and are no longer written or read (see <see cref="ResultStore"/>).
/// </summary>
public sealed record StoredRun(
    string Key, string Setting, string Profile, string Regime, int Seed, string SpecJson, bool Diverged, long? DivergedAtStep,
    string EpochsJson, double Seconds, string ProvenanceJson);

/// <summary>One measured value of a run, with the measure's own details (standard error, options used) as JSON.</summary>
public sealed record StoredMetric(string RunKey, string Metric, double Value, string DetailsJson, double Seconds);

/// <summary>
/// A run's Hessian spectral density as stochastic Lanczos quadrature left it: for each probe the Gauss quadrature nodes
/// (eigenvalues of the Lanczos tridiagonal matrix) and weights (squared first components of its eigenvectors), so a
/// reader can broaden it on any grid without the model. <see cref="DetailsJson"/> holds how it was computed (probes,
/// steps, seed, samples, operator applications, dimension).
/// </summary>
public sealed record StoredSpectrum(string RunKey, IReadOnlyList<double[]> Nodes, IReadOnlyList<double[]> Weights, string DetailsJson, double Seconds);
