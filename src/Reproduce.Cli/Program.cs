using System.CommandLine;
using Reproduce.Cli.Bench;
using Reproduce.Cli.Commands;

namespace Reproduce.Cli;

/// <summary>The thin command line. Verbs call into the libraries; no logic of their own lives here.</summary>
public static class Program
{
    public const int UsageError = 2;

    public static int Main(string[] args)
    {
        // Before any tensor operation: MKL decides its code path on its first call (see MklDispatch).
        Runtime.Native.MklDispatch.Apply();
        // Before the first tensor too: malloc's thresholds for libtorch's blocks (see HeapSettings; no number changes).
        Runtime.Native.HeapSettings.Apply();
        // Before the first tensor: which CPU tensors start as zeros (libtorch's kernels read stale bytes on one CPU: AllocationZeroing).
        Runtime.Native.AllocationZeroing.Apply();
        if (Runtime.Native.AllocationZeroing.InvalidSetting is { } invalid)
        {
            Console.Error.WriteLine($"error: environment variable {invalid}.");
            return UsageError;
        }
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions per figure (the median is reported).", DefaultValueFactory = _ => 20 };
        var installPeer = new Option<bool>("--install-peer") { Description = "Install Debian's python3-torch when the PyTorch peer is missing." };
        var root = new Option<string>("--root") { Description = "Repository root (for bench/hvp_peer.py).", DefaultValueFactory = _ => CommonOptions.FindRoot() };
        var which = new Option<string>("--suite") { Description = "hessian | measures | training | all.", DefaultValueFactory = _ => "all" };
        var figures = new Option<string?>("--figures") { Description = "Also write the headline figures as JSON to this file." };
        var noMkl = new Option<bool>("--no-mkl-comparison") { Description = "Skip the second column (the same figures with MKL's generic path, in a child process)." };
        var bench = new Command("bench", "Print the benchmark figures (HVP cost, measures, training throughput; PyTorch and MKL's generic path side by side).") { repeats, installPeer, root, which, figures, noMkl };
        bench.SetAction(parse =>
        {
            int r = parse.GetValue(repeats);
            if (r < 1) { Console.Error.WriteLine("--repeats must be at least 1."); return UsageError; }
            string suite = parse.GetValue(which)!;
            if (suite is not ("hessian" or "measures" or "training" or "all")) { Console.Error.WriteLine($"--suite: unknown '{suite}'; valid: hessian, measures, training, all."); return UsageError; }
            int code = 0;
            if (suite is "hessian" or "all") code |= new HessianBenchmark(Console.Out, parse.GetValue(root)!, r, parse.GetValue(installPeer)).Run();
            if (suite is "measures" or "all") { Console.WriteLine(); code |= new MeasureBenchmark(Console.Out, r).Run(); }
            if (suite is "training" or "all") { Console.WriteLine(); code |= new TrainingBenchmark(Console.Out, parse.GetValue(root)!, Math.Min(r, 5)).Run(); }
            if (parse.GetValue(figures) is { } path) BenchFigures.Write(path);
            if (!parse.GetValue(noMkl)) BenchFigures.CompareWithGenericMkl(Console.Out, suite, r, parse.GetValue(root)!);
            return code;
        });
        var command = new RootCommand("Reproduce: a reproducibility suite for the science of flat and sharp minima.") { RunCommand.Create(), ReportCommand.Create(), ListCommand.Create(), BaselinesCommand.Create(), MergeCommand.Create(), SweepCommand.Create(), MeasureCommand.Create(), SchemaCommand.Create(), bench };
        var result = command.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var e in result.Errors) Console.Error.WriteLine(e.Message);
            return UsageError;
        }
        try { return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); }
        catch (Exception e) when (e is ArgumentException or Claims.Specs.SpecException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
            or Claims.Store.OutputFolderInUseException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
    }
}
