using System.Diagnostics;
using System.Text.Json;
using Reproduce.Training;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Cli.Bench;

/// <summary>
/// Training throughput (images/s) for the MLP and LeNet-5, side by side with the same model, data, recipe (SGD lr
/// 0.05, momentum 0.9, batch 128) and threads in PyTorch; and the fastest split of 2 cores between parallel runs
/// (1 run x 2 threads vs 2 runs x 1 thread), the choice behind Workers = 2.
/// </summary>
internal sealed class TrainingBenchmark(TextWriter output, string repositoryRoot, int repeats)
{
    private const int Count = 5000, Epochs = 2;

    public static (Tensor X, Tensor Y, bool Real) Images(int count)
    {
        if (BenchImages.First(count) is { } real) return (real.X, real.Y, true);
        var g = new Generator(7);
        return (randn(new long[] { count, 1, 28, 28 }, generator: g), randint(0, 10, new long[] { count }, generator: g), false);
    }

    public int Run()
    {
        using var scope = NewDisposeScope();
        var (x, y, real) = Images(Count);
        string folder = Path.Combine(Path.GetTempPath(), $"reproduce-train-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "inputs.bin"), x.contiguous().bytes.ToArray());
            File.WriteAllBytes(Path.Combine(folder, "targets.bin"), y.to(ScalarType.Int64).contiguous().bytes.ToArray());
            File.WriteAllText(Path.Combine(folder, "meta.json"), JsonSerializer.Serialize(new { count = Count }));
            bool peer = File.Exists(PythonPeer.Interpreter) && File.Exists(Path.Combine(repositoryRoot, "bench", "train_peer.py"));
            output.WriteLine($"Training throughput: {Count} {(real ? "Fashion-MNIST" : "synthetic")} images, {Epochs} epochs, SGD lr 0.05 momentum 0.9, batch 128; medians of {repeats} runs.");
            output.WriteLine("model   threads  TorchSharp img/s  PyTorch img/s  ratio");
            foreach (var kind in new[] { "mlp", "lenet" })
                foreach (int threads in new[] { 1, 2 })
                {
                    torch.set_num_threads(threads);
                    var spec = kind == "mlp" ? ModelSpec.ForMlp([784, 128, 10]) with { InputShape = [1, 28, 28] } : ModelSpec.LeNet5();
                    using var data = new Dataset(x.clone(), y.clone(), "bench");
                    var rates = new List<double>();
                    for (int r = 0; r <= repeats; r++)
                    {
                        using var model = spec.Build(0);
                        var sw = Stopwatch.StartNew();
                        new Trainer().Train(model, data, new TrainerOptions { Epochs = Epochs, BatchSize = 128, LearningRate = 0.05, Momentum = 0.9, Seed = 1 });
                        if (r > 0) rates.Add(Count * Epochs / sw.Elapsed.TotalSeconds);
                    }
                    double ours = rates.Order().ElementAt(rates.Count / 2);
                    string theirs = "absent", ratio = "–";
                    if (peer)
                    {
                        var psi = new ProcessStartInfo(PythonPeer.Interpreter, [Path.Combine(repositoryRoot, "bench", "train_peer.py"), folder, threads.ToString(), kind, Epochs.ToString(), repeats.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
                        psi.Environment["OMP_WAIT_POLICY"] = "passive";
                        using var p = Process.Start(psi)!;
                        string text = p.StandardOutput.ReadToEnd();
                        p.WaitForExit();
                        if (p.ExitCode == 0)
                        {
                            double pt = JsonDocument.Parse(text.Trim().Split('\n')[^1]).RootElement.GetProperty("images_per_second").GetDouble();
                            theirs = $"{pt:0}"; ratio = $"{ours / pt:0.00}";
                            BenchFigures.Record($"{kind} training TorchSharp/PyTorch, {threads} thread(s)", ours / pt, kind == "mlp" && threads == 1 ? ">= 1.0" : "");
                        }
                    }
                    output.WriteLine($"{kind,-7} {threads,7}  {ours,16:0}  {theirs,13}  {ratio}");
                    BenchFigures.Record($"{kind} training img/s, {threads} thread(s)", ours);
                }
            WorkerSplit(x, y);
            MemoryOverRuns(x, y);
        }
        finally { Directory.Delete(folder, recursive: true); }
        return 0;
    }

    /// <summary>Resident memory over 30 train-and-measure cycles (MLP, 1000 images): it must stay flat.</summary>
    private void MemoryOverRuns(Tensor x, Tensor y)
    {
        torch.set_num_threads(2);
        using var data = new Dataset(x.narrow(0, 0, 1000).reshape(1000, 784).clone(), y.narrow(0, 0, 1000).clone(), "memory");
        double after5 = 0;
        for (int i = 1; i <= 30; i++)
        {
            using var scope = NewDisposeScope();
            using var model = new Mlp([784, 128, 10], seed: i);
            new Trainer().Train(model, data, new TrainerOptions { Epochs = 3, BatchSize = 50, LearningRate = 0.02, Momentum = 0.9, Seed = i });
            using var source = Measurement.Hessian.TensorBatchSource.Uniform(data.Inputs, data.Targets, 250);
            new Measurement.Sharpness.SamSharpness { Draws = 5, Seed = i }.Measure(model, Measurement.Hessian.LossKind.CrossEntropy, source);
            new Measurement.Sharpness.RelativeFlatness().Compute(new Measurement.FeatureModel(model, model.Features, "classifier.weight"), source);
            using var top = new Measurement.Spectral.LanczosEigensolver { MaxIterations = 20, Tolerance = 1e-3 }.Solve(
                new Measurement.Hessian.HessianOperator(new Measurement.Hessian.ModelObjective(model, Measurement.Hessian.LossKind.CrossEntropy, source)), 1);
            if (i == 5) { GC.Collect(); after5 = Timing.ResidentMegabytes(); }
        }
        GC.Collect();
        double after30 = Timing.ResidentMegabytes();
        output.WriteLine($"Resident memory over train-and-measure cycles (MLP, 1000 images): {after5:0.0} MiB after 5, {after30:0.0} MiB after 30 ({100 * (after30 - after5) / after5:+0.0;-0.0}%)");
    }

    /// <summary>Four LeNet runs: one after another with 2 threads, or two at a time with 1 thread each.</summary>
    private void WorkerSplit(Tensor x, Tensor y)
    {
        var spec = ModelSpec.LeNet5();
        using var data = new Dataset(x.narrow(0, 0, 1000).clone(), y.narrow(0, 0, 1000).clone(), "split");
        double Time(int workers)
        {
            torch.set_num_threads(2 / workers);
            var sw = Stopwatch.StartNew();
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
            {
                FeatureNetwork model;
                lock (spec) model = spec.Build(i);
                using (model) new Trainer().Train(model, data, new TrainerOptions { Epochs = 5, BatchSize = 50, LearningRate = 0.02, Momentum = 0.9, Seed = i });
            });
            return sw.Elapsed.TotalSeconds;
        }
        Time(2);
        double serial = Time(1), parallel = Time(2);
        output.WriteLine($"Worker split, 4 LeNet runs (1000 images, 5 epochs): 1 worker x 2 threads {serial:0.0} s, 2 workers x 1 thread {parallel:0.0} s (speed-up {serial / parallel:0.00}x)");
        torch.set_num_threads(2);
    }
}
