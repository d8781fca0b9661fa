using System.Diagnostics;
using System.Text.Json;

namespace Reproduce.Cli.Bench;

/// <summary>
/// Debian's PyTorch (python3-torch, run by /usr/bin/python3) as the side-by-side peer. Found, or installed when
/// the caller allows it; when it cannot be had, the benchmark says so plainly and prints the C# figures alone.
/// </summary>
internal sealed class PythonPeer
{
    public const string Interpreter = "/usr/bin/python3";
    private readonly string _script;

    private PythonPeer(string script) => _script = script;

    public static PythonPeer? Find(string repositoryRoot, bool install, TextWriter log)
    {
        string script = Path.Combine(repositoryRoot, "bench", "hvp_peer.py");
        if (!File.Exists(script)) { log.WriteLine($"PyTorch peer: {script} not found; comparing nothing."); return null; }
        if (HasTorch()) return new PythonPeer(script);
        if (install)
        {
            log.WriteLine("PyTorch peer: python3-torch missing; installing it with apt-get (python3-torch libopenblas0-pthread) ...");
            Run("apt-get", "install -y -qq python3-torch libopenblas0-pthread", out _);
            if (HasTorch()) return new PythonPeer(script);
        }
        log.WriteLine($"PyTorch peer: ABSENT ({Interpreter} cannot import torch; `apt-get install python3-torch libopenblas0-pthread` provides it). Side-by-side ratios are not printed.");
        return null;
    }

    private static bool HasTorch() => File.Exists(Interpreter) && Run(Interpreter, "-c \"import torch\"", out _) == 0;

    public JsonElement Measure(string manifest, int threads, string dtype, int repeats)
    {
        int code = Run(Interpreter, $"\"{_script}\" \"{manifest}\" {threads} {dtype} {repeats}", out string output);
        if (code != 0) throw new InvalidOperationException($"The PyTorch peer failed (exit {code}): {output}");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    private static int Run(string file, string arguments, out string output)
    {
        try
        {
            var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["OMP_WAIT_POLICY"] = "passive";
            // Older OpenBLAS builds need OPENBLAS_CORETYPE on some CPUs; it is inherited as the machine sets it.
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            output = stdout.Result + (p.ExitCode != 0 ? stderr.Result : "");
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            output = e.Message;
            return -1;
        }
    }
}
