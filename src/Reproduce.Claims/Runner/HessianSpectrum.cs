using System.Diagnostics;
using System.Text.Json;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Store;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using static TorchSharp.torch;

namespace Reproduce.Claims.Runner;

/// <summary>
/// The Hessian spectral density the report draws per regime, measured during `run` and stored by run
/// (<see cref="ResultStore.SaveSpectrum"/>), so that rendering needs no model, data or torch. Which runs: seed 0 (the
/// pairing index <see cref="RunSpec.Seed"/>) of every planned (setting, regime), the one run per regime the figure
/// shows. How: stochastic Lanczos quadrature of the training loss's Hessian on the first min(MeasureSize, 500)
/// training samples (batches of 250), 2 Rademacher probes, 40 Lanczos steps, generator seed 0: exactly what the report
/// computed from the checkpoint at render time before, so the figure's bytes did not change with the move.
/// </summary>
public static class HessianSpectrum
{
    public const int Probes = 2, Steps = 40, MaxSamples = 500, BatchSize = 250;
    public const long Seed = 0;

    /// <summary>Does the report need this run's spectrum?</summary>
    public static bool Wanted(RunSpec run) => run.Seed == 0;

    /// <summary>
    /// SLQ of the run's model (in evaluation mode, weights as trained: the metrics restore every perturbation bit for
    /// bit) and loss on the setting's training data. Uses libtorch's current thread count (the executor's).
    /// </summary>
    public static StoredSpectrum Measure(string runKey, RunMeasurementContext run)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        int n = Math.Min(run.SettingProfile.MeasureSize, MaxSamples);
        using var source = TensorBatchSource.Uniform(run.Data.Train.Inputs.narrow(0, 0, n), run.Data.Train.Targets.narrow(0, 0, n), BatchSize);
        var op = new HessianOperator(new ModelObjective(run.Model, run.Loss, source));
        var density = new StochasticLanczosQuadrature { Probes = Probes, Steps = Steps, Seed = Seed }.Estimate(op);
        var details = JsonSerializer.Serialize(new
        {
            method = "stochastic Lanczos quadrature", probes = Probes, steps = Steps, seed = Seed, samples = n, batchSize = BatchSize,
            applies = density.ApplyCount, dimension = density.Dimension,
        });
        return new StoredSpectrum(runKey, density.Nodes, density.Weights, details, clock.Elapsed.TotalSeconds);
    }
}
