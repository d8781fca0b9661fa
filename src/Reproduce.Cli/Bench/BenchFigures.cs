using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reproduce.Runtime.Native;

namespace Reproduce.Cli.Bench;

/// <summary>
/// The headline figures of one bench process, with their targets, so that two processes can be shown side by side:
/// MKL's dispatch is decided once per process (<see cref="MklDispatch"/>), so the "generic" column comes from a child
/// process started with REPRODUCE_MKL_FAST_PATH=off on the same suites and repeats.
/// </summary>
internal static class BenchFigures
{
    private static readonly List<(string Name, double Value, string Target)> figures = [];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Record(string name, double value, string target = "")
    {
        lock (figures) figures.Add((name, value, target));
    }

    public static void Write(string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(figures.Select(f => new { name = f.Name, value = f.Value, target = f.Target })));

    /// <summary>Re-runs the same suites in a child with the MKL override off and prints both columns.</summary>
    public static void CompareWithGenericMkl(TextWriter output, string suite, int repeats, string root)
    {
        if (!MklDispatch.FastPathOn)
        {
            output.WriteLine($"\nMKL: {MklDispatch.State}; no fast-path comparison on this machine.");
            return;
        }
        string path = Path.Combine(Path.GetTempPath(), $"reproduce-bench-figures-{Environment.ProcessId}.json");
        var psi = new ProcessStartInfo("dotnet", [Environment.GetCommandLineArgs()[0], "bench", "--suite", suite, "--repeats", repeats.ToString(Inv), "--root", root, "--figures", path, "--no-mkl-comparison"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment[MklDispatch.OptOutVariable] = "off";
        output.WriteLine("\nRunning the same figures with MKL's generic path (REPRODUCE_MKL_FAST_PATH=off) in a child process...");
        using var child = Process.Start(psi)!;
        var discard = child.StandardOutput.ReadToEndAsync();
        string err = child.StandardError.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0 || !File.Exists(path)) { output.WriteLine($"the generic-path child failed (exit {child.ExitCode}): {err.Trim()}"); return; }
        var generic = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()
            .GroupBy(e => e.GetProperty("name").GetString()!).ToDictionary(g => g.Key, g => g.First().GetProperty("value").GetDouble());
        File.Delete(path);
        output.WriteLine($"\nMKL fast path against MKL's generic path (this process: {MklDispatch.State}); medians of {repeats} repeats each:");
        output.WriteLine($"{"figure",-52} {"fast path",12} {"generic",12}  target");
        List<(string Name, double Value, string Target)> mine;
        lock (figures) mine = [.. figures];
        foreach (var (name, value, target) in mine)
            output.WriteLine(string.Format(Inv, "{0,-52} {1,12:G4} {2,12:G4}  {3}", name, value, generic.TryGetValue(name, out var g) ? g : double.NaN, target));
    }
}
