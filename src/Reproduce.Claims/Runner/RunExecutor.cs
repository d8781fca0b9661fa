using System.Diagnostics;
using System.Text.Json;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Store;
using Reproduce.Measurement.Safety;
using Reproduce.Training;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Claims.Runner;

/// <summary>
/// Trains and measures every run of a plan that the store does not already hold, writing each result as soon as it
/// exists (a killed run resumes where it stopped). A run whose metrics are partly missing is re-measured from its
/// checkpoint when there is one, and retrained (deterministically) when not. Diverged runs are stored as such and
/// never measured. Per-group metrics (disagreement, JS) are computed from the stored test predictions once all
/// seeds of a (setting, regime) exist. After its metrics, seed 0 of each (setting, regime) gets its Hessian spectral
/// density (<see cref="HessianSpectrum"/>) for the report. A missing spectrum is a missing measure like a metric: a
/// stored run without one gets it from its checkpoint, or is retrained (deterministically) without one, so a run killed
/// between its last metric and its spectrum is completed as any partly measured run.
/// Threads: libtorch's intra-op pool gets Threads / Workers threads; Workers runs train side by side. Model
/// construction seeds libtorch's global generator, so it is serialised; everything else random draws from
/// per-run generators, so results do not depend on scheduling.
/// </summary>
public sealed class RunExecutor(ReproduceOptions options, ResultStore store, DataProvider data, Provenance provenance, IProgress<RunEvent>? progress = null)
{
    private readonly ThreadLocal<double> share = new();

    /// <summary>Reports an event stamped with the current run's share of the work (each phase is a crash-test point).</summary>
    private void Report(RunEvent e)
    {
        progress?.Report(e with { Share = share.Value });
        TestPause.At(e.Phase.ToString().ToLowerInvariant());
    }

    public ExecutionSummary Execute(RunPlan plan, CancellationToken cancel = default)
    {
        torch.set_num_threads(options.ThreadsPerWorker);
        var clock = Stopwatch.StartNew();
        int trained = 0, remeasured = 0, cached = 0, diverged = 0, failed = 0, measured = 0, index = 0;
        var failures = new List<string>();
        var gate = new object();
        // Longest first (by estimated cost), handed out one at a time: the workers finish together instead of one
        // waiting on a long tail of SAM runs. Order does not change any result: every run draws from its own seeds.
        double totalCost = plan.Runs.Sum(r => r.EstimatedCost);
        var ordered = plan.Runs.Select((r, i) => (r, i)).OrderByDescending(t => t.r.EstimatedCost).ThenBy(t => t.i).Select(t => t.r).ToList();
        void Body(RunSpec run)
        {
            share.Value = totalCost > 0 ? run.EstimatedCost / totalCost : 0;
            int i;
            lock (gate) i = ++index;
            try
            {
                var (outcome, count, fromCheckpoint) = ExecuteOne(run, plan.MetricsByRun[run.Key].Where(m => !RunPlan.IsPerGroup(m)).ToList(), i, plan.Runs.Count);
                lock (gate)
                {
                    measured += count;
                    if (outcome == RunPhase.Cached) cached++;
                    else if (outcome == RunPhase.Diverged) diverged++;
                    else if (fromCheckpoint) remeasured++;
                    else trained++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lock (gate) { failed++; failures.Add($"{run.Describe()}: {e.Message}"); }
                Report(new RunEvent(i, plan.Runs.Count, run.Describe(), RunPhase.Failed, e.Message, 0));
            }
        }
        RunOnWorkers(ordered, options.Workers, Body, cancel);
        measured += MeasureGroups(plan);
        return new ExecutionSummary(trained, cached, diverged, failed, measured, clock.Elapsed.TotalSeconds, failures) { Remeasured = remeasured };
    }

    /// <summary>
    /// Hands <paramref name="runs"/> out in order, one at a time, to <paramref name="workers"/> dedicated threads that
    /// live for the whole plan. Why not the thread pool: glibc gives each thread that allocates its own malloc arena
    /// (up to 8 per core), and every arena keeps its freed high-water mark (<see cref="Runtime.Native.HeapSettings"/>
    /// keeps up to 512 MiB free per arena, so that Hessian-vector products do not fault pages in). Pool threads come and
    /// go, and a plan's runs landed on ever more of them: resident memory grew with the number of threads that had
    /// carried a run (751 MiB after the first run, 2032 MiB at the end of the default profile), not with any leak.
    /// With a fixed set of threads it is bounded by the workers' peak working sets. Which thread runs a run changes no
    /// result: every run draws from its own generators. Cancellation stops handing out runs and rethrows; any other
    /// exception escaping <paramref name="body"/> stops every worker and is rethrown on the calling thread.
    /// </summary>
    public static void RunOnWorkers<T>(IReadOnlyList<T> runs, int workers, Action<T> body, CancellationToken cancel = default)
    {
        int next = -1;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        void Work()
        {
            try
            {
                // libtorch applies set_num_threads to a thread lazily, at its first parallel_for or get_num_threads
                // (OpenMP's and MKL's thread counts are per thread); until then an MKL call on a new thread runs with
                // the machine's default. Taking it first makes every run on this thread start from the executor's
                // count, whatever the thread's first operation is (a tiny data set's matrix product, say).
                _ = torch.get_num_threads();
                for (int k; !cancel.IsCancellationRequested && errors.IsEmpty && (k = Interlocked.Increment(ref next)) < runs.Count;)
                    body(runs[k]);
            }
            catch (Exception e) { errors.Enqueue(e); }
        }
        var threads = Enumerable.Range(0, Math.Max(1, Math.Min(workers, runs.Count))).Select(w => new Thread(Work) { Name = $"reproduce-worker-{w}", IsBackground = true }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        cancel.ThrowIfCancellationRequested();
        if (errors.TryDequeue(out var first))
        {
            if (errors.IsEmpty) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            throw new AggregateException([first, .. errors]);
        }
    }

    private (RunPhase, int, bool FromCheckpoint) ExecuteOne(RunSpec run, IReadOnlyList<string> metrics, int index, int total)
    {
        var clock = Stopwatch.StartNew();
        var existing = store.GetRun(run.Key);
        var have = store.Metrics(run.Key);
        var missing = metrics.Where(m => !have.ContainsKey(m)).ToList();
        bool spectrumMissing = options.Spectra && HessianSpectrum.Wanted(run) && store.Spectrum(run.Key) is null;
        if (existing is not null && (existing.Diverged || (missing.Count == 0 && !spectrumMissing && (run.SettingProfile.IsRegression || store.Predictions(run.Key) is not null))))
        {
            Report(new RunEvent(index, total, run.Describe(), RunPhase.Cached, existing.Diverged ? existing.DivergedAtStep is { } s ? $"diverged at step {s}" : "diverged" : "stored", 0));
            return (RunPhase.Cached, 0, false);
        }
        using var scope = NewDisposeScope();
        var setting = data.For(run.SettingProfile);
        string checkpoint = Path.Combine(options.CheckpointFolder, $"{run.Key}.safetensors");
        FeatureNetwork model;
        StoredRun? trained = null;
        // A metric observed along training (TrajectoryMetric) cannot be measured from a checkpoint, which holds the end
        // point only: a stored run missing one is retrained (deterministically: the observation draws nothing from the
        // trainer's generator and changes no weight, so the retrained run is the stored one, bit for bit).
        bool missingTrajectory = missing.Any(m => MetricRegistry.GetPerRun(m) is TrajectoryMetric);
        bool fromCheckpoint = existing is not null && File.Exists(checkpoint) && !missingTrajectory;
        IReadOnlyDictionary<string, IReadOnlyList<TrajectoryPoint>>? trajectories = null;
        if (fromCheckpoint)
        {
            var loaded = Checkpoint.Load(checkpoint, options.TorchDevice());
            model = loaded.Model;
        }
        else
        {
            model = run.SettingProfile.Model.Build(run.TrainingSeed, options.TorchDevice());
            // A relative target becomes the trainer's absolute one: that fraction of the MSE of predicting the training
            // targets' mean (their variance), so the run stops when 1 - R^2 on the training subset reaches it.
            double? trainLossTarget = run.SettingProfile.RelativeTrainLossTarget is { } relative
                ? relative * setting.Train.TargetVariance()
                : run.SettingProfile.TrainLossTarget;
            var recipe = new TrainerOptions
            {
                Epochs = run.SettingProfile.Epochs, TrainLossTarget = trainLossTarget, BatchSize = run.SettingProfile.BatchSize, LearningRate = run.SettingProfile.LearningRate, Momentum = run.SettingProfile.Momentum,
                Optimiser = run.SettingProfile.Optimiser, OptimiserParameters = run.SettingProfile.OptimiserParameters, Schedule = run.SettingProfile.Schedule, Seed = run.TrainingSeed, MeanSquaredError = run.SettingProfile.IsRegression,
            }.With(run.Regime);
            Report(new RunEvent(index, total, run.Describe(), RunPhase.Training, recipe.TrainLossTarget is { } target ? $"until clean train loss <= {target:g4}{(run.SettingProfile.RelativeTrainLossTarget is { } rel ? $" ({rel:g4} of the targets' variance)" : "")} (cap {recipe.Epochs} epochs)" : $"{recipe.Epochs} epochs", clock.Elapsed.TotalSeconds));
            var observed = metrics.Select(MetricRegistry.GetPerRun).OfType<TrajectoryMetric>().GroupBy(m => m.TrajectoryKey).Select(g => g.First()).ToList();
            using var observing = observed.Count > 0 ? new RunMeasurementContext(model, run.SettingProfile, run.Regime, setting, run.TrainingSeed) : null;
            var recorded = observed.ToDictionary(m => m.TrajectoryKey, _ => new List<TrajectoryPoint>());
            var heldOut = recipe.Swad is { } swad ? data.HeldOut(run.SettingProfile, swad.HeldOutCount(run.SettingProfile.TrainSize)) : null;
            var result = new Trainer { Observer = observing is null ? null : Observer(observed, observing, recorded, recipe, setting.Train.Count) }.Train(model, setting.Train, recipe, heldOut);
            if (observing is not null) trajectories = recorded.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<TrajectoryPoint>)kv.Value);
            var epochs = JsonSerializer.Serialize(result.Epochs, EpochJson);
            if (result.Diverged)
            {
                store.SaveRun(new StoredRun(run.Key, run.Setting, run.Profile, run.Regime.Name, run.Seed, run.CanonicalJson, true, result.DivergedAtStep,
                    epochs, clock.Elapsed.TotalSeconds, provenance.ToJson()), null, null, 0);
                Report(new RunEvent(index, total, run.Describe(), RunPhase.Diverged, result.Describe(), clock.Elapsed.TotalSeconds));
                model.Dispose();
                return (RunPhase.Diverged, 0, false);
            }
            model.eval();
            if (options.Checkpoints)
                Checkpoint.Save(checkpoint, model, new Dictionary<string, string>
                {
                    ["run_key"] = run.Key, ["setting"] = run.Setting, ["profile"] = run.Profile, ["regime"] = run.Regime.Name,
                    ["seed"] = run.Seed.ToString(), ["recipe"] = run.CanonicalJson, ["code_version"] = provenance.CodeVersion,
                    ["data_subset"] = $"{run.SettingProfile.Data}: first {run.SettingProfile.TrainSize} training and {run.SettingProfile.TestSize} test samples of the permutation seeded {DataProvider.DataSeed}"
                        + (run.SettingProfile.LabelNoise is > 0 ? $", {run.SettingProfile.LabelNoise:P0} random labels" : "") + (run.SettingProfile.Function is { } f ? $", target {f}" : "")
                        + (run.SettingProfile.CirclesFactor is { } cf ? $", ring factor {cf}" : "")
                        + (recipe.Swad is { } sw ? $"; SWAD held-out split: the next {sw.HeldOutCount(run.SettingProfile.TrainSize)} training samples; {result.Swad?.Describe()}" : ""),
                    ["torchsharp"] = provenance.TorchSharpVersion,
                });
            trained = new StoredRun(run.Key, run.Setting, run.Profile, run.Regime.Name, run.Seed, run.CanonicalJson, false, null,
                epochs, clock.Elapsed.TotalSeconds, provenance.ToJson());
            missing = metrics.ToList();
        }
        // One measurement context per run: the test (and train) predictions it caches serve the stored run and every metric.
        using var computer = new RunMeasurementContext(model, run.SettingProfile, run.Regime, setting, run.TrainingSeed) { Trajectories = trajectories };
        if (trained is not null)
            SaveWithPredictions(trained, computer);
        else if (!run.SettingProfile.IsRegression && store.Predictions(run.Key) is null)
            SaveWithPredictions(existing!, computer);
        int count = MeasureAll(computer, run, missing, index, total, clock);
        if (spectrumMissing) SaveSpectrum(run, computer, index, total, clock);
        model.Dispose();
        Report(new RunEvent(index, total, run.Describe(), RunPhase.Finished, $"{count} metrics", clock.Elapsed.TotalSeconds));
        return (RunPhase.Finished, count, fromCheckpoint);
    }

    /// <summary>
    /// The trainer's observer for the run's trajectory metrics: called every gcd of their periods (and after the last
    /// step), it records each metric's point at the multiples of its own period and at the last step, on the model as
    /// it trains, inside a dispose scope of its own.
    /// </summary>
    private static TrainingObserver Observer(IReadOnlyList<TrajectoryMetric> observed, RunMeasurementContext observing, Dictionary<string, List<TrajectoryPoint>> recorded, TrainerOptions recipe, long samples)
    {
        long batch = recipe.BatchSize == 0 ? samples : Math.Min(recipe.BatchSize, samples);
        long lastStep = recipe.Epochs * ((samples + batch - 1) / batch);
        int period = observed.Select(m => m.EverySteps).Aggregate((a, b) => (int)System.Numerics.BigInteger.GreatestCommonDivisor(a, b));
        return new TrainingObserver(period, step =>
        {
            foreach (var metric in observed)
                if (step % metric.EverySteps == 0 || step == lastStep)
                {
                    using var scope = NewDisposeScope();
                    recorded[metric.TrajectoryKey].Add(metric.Point(observing, step));
                }
        });
    }

    /// <summary>Stores the run with its test-set probabilities (float32) and labels; regression runs have none.</summary>
    private void SaveWithPredictions(StoredRun run, RunMeasurementContext computer)
    {
        if (computer.IsRegression) { store.SaveRun(run, null, null, 0); return; }
        var p = computer.TestPredictions;
        store.SaveRun(run, Runtime.Devices.HostRead.ToArray<float>(p.Probabilities.to(ScalarType.Float32)), Runtime.Devices.HostRead.ToArray<long>(p.Labels), (int)p.Classes);
    }

    private int MeasureAll(RunMeasurementContext computer, RunSpec run, IReadOnlyList<string> metrics, int index, int total, Stopwatch clock)
    {
        int count = 0;
        foreach (var metric in metrics)
        {
            Report(new RunEvent(index, total, run.Describe(), RunPhase.Measuring, metric, clock.Elapsed.TotalSeconds));
            var started = Stopwatch.StartNew();
            var (value, details) = computer.Measure(MetricRegistry.GetPerRun(metric));
            store.SaveMetric(new StoredMetric(run.Key, metric, value, details, started.Elapsed.TotalSeconds));
            count++;
        }
        return count;
    }

    /// <summary>
    /// The report's spectrum of a run (<see cref="HessianSpectrum"/>), from the run's measurement context (the model in memory), after the metrics. Its
    /// progress line skips <see cref="Report"/>: it has its own pause point, "spectrum", so the "measuring" count of the
    /// crash tests still means the n-th metric.
    /// </summary>
    private void SaveSpectrum(RunSpec run, RunMeasurementContext computer, int index, int total, Stopwatch clock)
    {
        progress?.Report(new RunEvent(index, total, run.Describe(), RunPhase.Measuring, "Hessian spectral density", clock.Elapsed.TotalSeconds, share.Value));
        TestPause.At("spectrum");
        store.SaveSpectrum(HessianSpectrum.Measure(run.Key, computer));
    }

    /// <summary>Epoch logs may hold NaN (accuracy of a regression run): written as the JSON string "NaN".</summary>
    public static readonly JsonSerializerOptions EpochJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The per-group metrics (disagreement, JS) of each run: computed through the registry from the stored test
    /// predictions of the seeds of its (setting, regime) that did not diverge, once at least two exist.</summary>
    private int MeasureGroups(RunPlan plan)
    {
        int count = 0;
        foreach (var group in plan.Groups())
        {
            var wanted = group.SelectMany(r => plan.MetricsByRun[r.Key]).Where(RunPlan.IsPerGroup).ToHashSet();
            var metrics = MetricRegistry.GroupMetrics.Where(m => wanted.Contains(m.Name)).ToList();
            if (metrics.Count == 0) continue;
            var members = group.Select(r => (Run: r, Stored: store.GetRun(r.Key), P: store.Predictions(r.Key)))
                .Where(m => m.Stored is { Diverged: false } && m.P is not null).ToList();
            if (members.Count < 2) continue;
            using var scope = NewDisposeScope();
            using var context = GroupMeasurementContext.FromStored([.. members.Select(m => (m.Run.Seed, m.P!.Value))]);
            for (int i = 0; i < members.Count; i++)
            {
                foreach (var metric in metrics)
                {
                    var (value, details) = metric.Compute(context, i);
                    store.SaveMetric(new StoredMetric(members[i].Run.Key, metric.Name, value, details, 0));
                    count++;
                }
                TestPause.At("group");
            }
        }
        return count;
    }
}
