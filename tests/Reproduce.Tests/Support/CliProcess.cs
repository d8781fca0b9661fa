using System.Diagnostics;
using NUnit.Framework;

namespace Reproduce.Tests.Support;

/// <summary>
/// The built command line as a child process (the test project does not reference the CLI, so nothing depends on
/// it). Children get OMP_WAIT_POLICY=passive, which libgomp reads only at process start.
/// </summary>
public static class CliProcess
{
    public static string Dll()
    {
        foreach (var config in new[] { "Release", "Debug" })
        {
            var path = Repository.Path("src", "Reproduce.Cli", "bin", config, "net10.0", "linux-x64", "reproduce.dll");
            if (File.Exists(path)) return path;
        }
        Assert.Fail("reproduce.dll is not built: run `dotnet build Reproduce.sln -c Release` (make test does).");
        return "";
    }

    /// <summary>Starts the CLI with output captured; the caller owns (and disposes) the process.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [Dll(), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repository.Root };
        psi.Environment["OMP_WAIT_POLICY"] = "passive";
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>Runs the CLI to completion (failing the test after <paramref name="timeoutSeconds"/>).</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string>? environment, int timeoutSeconds, params string[] args)
    {
        using var p = Start(environment, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(true); Assert.Fail($"the CLI did not finish in {timeoutSeconds} s: {string.Join(' ', args)}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static (int Code, string Out, string Err) Run(params string[] args) => Run(null, 120, args);
}
