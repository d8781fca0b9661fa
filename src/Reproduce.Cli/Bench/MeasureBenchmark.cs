using System.Diagnostics;
using Reproduce.Measurement;
using Reproduce.Measurement.Autograd;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Safety;
using Reproduce.Measurement.Sharpness;
using Reproduce.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Cli.Bench;

/// <summary>
/// Figures for the measures (issue 5): relative flatness by the paper's per-entry autograd loop vs the closed form on
/// the 128x10 classifier of the Fashion-MNIST MLP with 1000 images (same value, time ratio), the time of one SAM
/// sharpness draw, and of one PGD step, on the same 1000 images.
/// </summary>
internal sealed class MeasureBenchmark(TextWriter output, int repeats)
{
    public int Run()
    {
        using var scope = NewDisposeScope();
        torch.set_num_threads(2);
        var (x, y, real) = TrainingBenchmark.Images(1000);
        var model = new Mlp([784, 128, 10], seed: 1);
        model.eval();
        var flat = x.reshape(1000, 784);
        using var source = TensorBatchSource.Uniform(flat, y, 1000);
        var fm = new FeatureModel(model, model.Features, "classifier.weight");
        output.WriteLine($"Measures benchmark: MLP 784-128-10, {(real ? "1000 Fashion-MNIST training images" : "1000 synthetic images")}, 2 threads.");

        double closedValue = 0;
        double closedMs = Timing.MedianMilliseconds(() => closedValue = new RelativeFlatness { NormaliseFeatures = false }.Compute(fm, source).Value, repeats);
        var sw = Stopwatch.StartNew();
        double loopValue = PerEntryKappa(model, flat, y);
        double loopMs = sw.Elapsed.TotalMilliseconds;
        output.WriteLine($"relative flatness, 1280 classifier weights: per-entry autograd loop {loopMs:0} ms (one run), closed form {closedMs:0.00} ms (median), "
            + $"speed-up {loopMs / closedMs:0}x; values {loopValue:g8} vs {closedValue:g8} (rel. diff {Math.Abs(loopValue - closedValue) / Math.Abs(loopValue):0.0e0})");

        var sam = new SamSharpness { Draws = 10, Seed = 1 };
        double samMs = Timing.MedianMilliseconds(() => sam.Measure(model, LossKind.CrossEntropy, source), Math.Max(3, repeats / 4));
        output.WriteLine($"SAM sharpness: {samMs / 10:0.00} ms per draw (1000 images; the paper's 100 draws: {samMs * 10 / 1000:0.00} s)");

        var format = new ImageFormat(1, 28, 28, [Training.Data.FashionMnist.Mean], [Training.Data.FashionMnist.Std], Flattened: true);
        var pgd = new AdversarialRobustness { Steps = 10 };
        double pgdMs = Timing.MedianMilliseconds(() => pgd.Perturb(model, format, flat, y, 0.1, new Generator(1)), Math.Max(3, repeats / 4));
        output.WriteLine($"PGD (l-inf, 10 steps): {pgdMs / 10:0.00} ms per step on 1000 images");
        return 0;
    }

    /// <summary>The paper's way: one second-derivative row per classifier weight entry, then kappa from the rows.</summary>
    private static double PerEntryKappa(Mlp model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var w = model.Classifier.weight!;
        var loss = nn.functional.cross_entropy(model.forward(x), y);
        var g = AutogradGuard.Gradient(loss, [w], createGraph: true)[0].reshape(-1);
        long k = w.shape[0], m = w.shape[1];
        var traces = new double[k, k];
        for (long s = 0; s < k; s++)
            for (long j = 0; j < m; j++)
            {
                using var inner = NewDisposeScope();
                var row = AutogradGuard.Gradient(g[s * m + j], [w])[0];
                for (long t = 0; t < k; t++) traces[s, t] += row[t, j].to(ScalarType.Float64).item<double>();
            }
        var wd = w.detach().to(ScalarType.Float64);
        var gram = wd.mm(wd.t());
        double kappa = 0;
        for (long s = 0; s < k; s++) for (long t = 0; t < k; t++) kappa += gram[s, t].item<double>() * traces[s, t];
        return kappa;
    }
}
