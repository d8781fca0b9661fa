using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Cli.Bench;

/// <summary>
/// Figures for the Hessian core (issue 3) on an MLP 784-128-10 and 1000 inputs shaped like Fashion-MNIST:
/// HVP / gradient time, TorchSharp / PyTorch HVP time on the same weights, inputs and threads, HVPs spent by
/// power iteration vs Lanczos for the top 5 eigenvalues, and resident memory over 1000 HVPs.
/// Medians of repeated runs, all measured in this one process (and its peer) so ratios are side by side.
/// </summary>
internal sealed class HessianBenchmark(TextWriter output, string repositoryRoot, int repeats, bool installPeer)
{
    private const int Samples = 1000;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public int Run()
    {
        bool real = RealImages.Value is not null;
        output.WriteLine($"Hessian core benchmark: MLP 784-128-10 (ReLU), {Samples} {(real ? "Fashion-MNIST training images" : "synthetic 784-d inputs (Fashion-MNIST not installed)")}, cross-entropy; medians of {repeats} runs.");
        output.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}, cores {Environment.ProcessorCount}");
        var peer = PythonPeer.Find(repositoryRoot, installPeer, output);
        string folder = Path.Combine(Path.GetTempPath(), $"reproduce-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            output.WriteLine();
            output.WriteLine("dtype    threads  grad ms  HVP ms  HVP/grad  PyTorch grad ms  PyTorch HVP ms  TorchSharp/PyTorch HVP  |Hv| rel diff  matmul ms TS/PT");
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
                foreach (int threads in new[] { 1, 2 })
                    TimeRow(dtype, threads, peer, folder);
            output.WriteLine();
            EigenvalueCost();
            output.WriteLine();
            MemoryGrowth();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        return 0;
    }

    private static (nn.Module<Tensor, Tensor> Model, Tensor X, Tensor Y, Tensor V) Problem(ScalarType dtype)
    {
        torch.manual_seed(1234);
        var model = nn.Sequential(
            ("fc0", nn.Linear(784, 128, dtype: ScalarType.Float64)),
            ("relu", nn.ReLU()),
            ("fc1", nn.Linear(128, 10, dtype: ScalarType.Float64)));
        var g = new Generator(99);
        var (x, y) = Inputs(g);
        long p = model.parameters().Sum(t => t.numel());
        var v = randn(p, dtype: ScalarType.Float64, generator: g);
        model.to(dtype);
        return (model, x.to(dtype), y, v.to(dtype));
    }

    // The 60,000-image file is decompressed and parsed once per process, not once per benchmark row.
    private static readonly Lazy<(Tensor X, Tensor Y)?> RealImages = new(() =>
        BenchImages.First(Samples) is { } real
            ? (real.X.reshape(Samples, 784).to(ScalarType.Float64).DetachFromDisposeScope(), real.Y.DetachFromDisposeScope())
            : null);

    /// <summary>The first 1000 Fashion-MNIST training images when the data set is installed, else uniform pixel noise standardised the same way.</summary>
    private static (Tensor X, Tensor Y) Inputs(Generator g)
    {
        if (RealImages.Value is { } real) return (real.X.clone(), real.Y.clone());
        var x = (rand(new long[] { Samples, 784 }, dtype: ScalarType.Float64, generator: g) - Reproduce.Training.Data.FashionMnist.Mean) / Reproduce.Training.Data.FashionMnist.Std;
        return (x, randint(0, 10, new long[] { Samples }, dtype: ScalarType.Int64, generator: g));
    }

    private void TimeRow(ScalarType dtype, int threads, PythonPeer? peer, string folder)
    {
        torch.set_num_threads(threads);
        using var scope = NewDisposeScope();
        var (model, x, y, v) = Problem(dtype);
        using var source = new TensorBatchSource(x, y, new[] { Samples });
        var objective = new ModelObjective(model, LossKind.CrossEntropy, source);
        var op = new HessianOperator(objective);
        double gradMs = Timing.MedianMilliseconds(() => { using var s = NewDisposeScope(); op.Gradient(); }, repeats);
        double hvpMs = Timing.MedianMilliseconds(() => { using var s = NewDisposeScope(); op.Apply(v); }, repeats);
        double hvNorm = op.Apply(v).to(ScalarType.Float64).norm().item<double>();
        // A bare 1000x784 @ 784x128 product: separates our overhead from the two libtorch builds' GEMM speed.
        var w1 = model.parameters().First().detach();
        double matmulMs = Timing.MedianMilliseconds(() => { using var s = NewDisposeScope(); x.mm(w1.t()); }, repeats);
        string peerColumns = "  (peer absent)";
        if (peer is not null)
        {
            string manifest = WriteProblem(folder, model, x, y, v);
            var r = peer.Measure(manifest, threads, dtype == ScalarType.Float32 ? "float32" : "float64", repeats);
            double pyGrad = r.GetProperty("gradient_ms").GetDouble(), pyHvp = r.GetProperty("hvp_ms").GetDouble();
            double diff = Math.Abs(r.GetProperty("hv_norm").GetDouble() - hvNorm) / hvNorm;
            double pyMatmul = r.GetProperty("matmul_ms").GetDouble();
            peerColumns = string.Format(Inv, "  {0,15:F2}  {1,14:F2}  {2,22:F2}  {3,13:E1}  {4,6:F2}/{5:F2}", pyGrad, pyHvp, hvpMs / pyHvp, diff, matmulMs, pyMatmul);
            BenchFigures.Record($"HVP TorchSharp/PyTorch, {dtype}, {threads} thread(s)", hvpMs / pyHvp, dtype == ScalarType.Float32 && threads == 1 ? "<= 0.9" : "");
        }
        BenchFigures.Record($"HVP ms, {dtype}, {threads} thread(s)", hvpMs);
        BenchFigures.Record($"GEMM 1000x784x128 ms, {dtype}, {threads} thread(s)", matmulMs);
        output.WriteLine(string.Format(Inv, "{0,-8} {1,7}  {2,7:F2}  {3,6:F2}  {4,8:F2}", dtype, threads, gradMs, hvpMs, hvpMs / gradMs) + peerColumns);
    }

    private static string WriteProblem(string folder, nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Tensor v)
    {
        var manifest = new Dictionary<string, object>();
        void Save(string name, Tensor t)
        {
            var file = name + ".bin";
            if (t.dtype == ScalarType.Int64) File.WriteAllBytes(Path.Combine(folder, file), MemoryMarshal.AsBytes(t.contiguous().data<long>().ToArray().AsSpan()).ToArray());
            else File.WriteAllBytes(Path.Combine(folder, file), MemoryMarshal.AsBytes(t.to(ScalarType.Float64).contiguous().data<double>().ToArray().AsSpan()).ToArray());
            manifest[name] = new { file, dtype = t.dtype == ScalarType.Int64 ? "<i8" : "<f8", shape = t.shape };
        }
        var names = new List<string>();
        foreach (var (name, p) in model.named_parameters()) { Save(name, p.detach()); names.Add(name); }
        manifest["parameter_order"] = names;
        Save("inputs", x);
        Save("targets", y);
        Save("vector", v);
        string path = Path.Combine(folder, "manifest.json");
        File.WriteAllText(path, JsonSerializer.Serialize(manifest));
        return path;
    }

    private void EigenvalueCost()
    {
        torch.set_num_threads(2);
        using var scope = NewDisposeScope();
        var (model, x, y, _) = Problem(ScalarType.Float64);
        using var source = new TensorBatchSource(x, y, new[] { Samples });
        var objective = new ModelObjective(model, LossKind.CrossEntropy, source);
        var reference = new LanczosEigensolver { Tolerance = 1e-10, MaxIterations = 400, Seed = 7 }.Solve(new HessianOperator(objective), 5);
        var lanczos = new LanczosEigensolver { Tolerance = 1e-6, MaxIterations = 400, Seed = 1 }.Solve(new HessianOperator(objective), 5);
        var power = new PowerIteration { Tolerance = 1e-6, MaxIterations = 5000, Seed = 1 }.Solve(new HessianOperator(objective), 5);
        double Err(double[] values) => values.Zip(reference.Values, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max();
        output.WriteLine("Top-5 Hessian eigenvalues, float64, 2 threads (reference: Lanczos to 1e-10):");
        output.WriteLine($"  reference     [{string.Join(", ", reference.Values.Select(v => v.ToString("G8", Inv)))}]  ({reference.ApplyCount} HVPs)");
        output.WriteLine(string.Format(Inv, "  Lanczos       {0,5} HVPs  max rel error {1:E1}  converged {2}", lanczos.ApplyCount, Err(lanczos.Values), lanczos.Converged));
        output.WriteLine(string.Format(Inv, "  power+deflate {0,5} HVPs  max rel error {1:E1}  converged {2}", power.ApplyCount, Err(power.Values), power.Converged));
        output.WriteLine(string.Format(Inv, "  HVP ratio power / Lanczos = {0:F1}  (target >= 5)", (double)power.ApplyCount / lanczos.ApplyCount));
    }

    private void MemoryGrowth()
    {
        torch.set_num_threads(2);
        using var scope = NewDisposeScope();
        var (model, x, y, v) = Problem(ScalarType.Float32);
        using var source = new TensorBatchSource(x, y, new[] { Samples });
        var op = new HessianOperator(new ModelObjective(model, LossKind.CrossEntropy, source));
        double after100 = 0;
        for (int i = 1; i <= 1000; i++)
        {
            using (NewDisposeScope()) op.Apply(v);
            if (i == 100) { GC.Collect(); after100 = Timing.ResidentMegabytes(); }
        }
        GC.Collect();
        double after1000 = Timing.ResidentMegabytes();
        output.WriteLine(string.Format(Inv, "Resident memory: {0:F1} MiB after 100 HVPs, {1:F1} MiB after 1000: growth {2:+0.00;-0.00}%  (target < 5%)",
            after100, after1000, 100 * (after1000 - after100) / after100));
    }
}
