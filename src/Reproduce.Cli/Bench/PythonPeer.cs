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
        if (HasTorch()) return Described(new PythonPeer(script), log);
        if (install)
        {
            log.WriteLine("PyTorch peer: python3-torch missing; installing it with apt-get (python3-torch libopenblas0-pthread) ...");
            Run("apt-get", "install -y -qq python3-torch libopenblas0-pthread", out _);
            if (HasTorch()) return Described(new PythonPeer(script), log);
        }
        log.WriteLine($"PyTorch peer: ABSENT ({Interpreter} cannot import torch; `apt-get install python3-torch libopenblas0-pthread` provides it). Side-by-side ratios are not printed.");
        return null;
    }

    /// <summary>
    /// Prints the peer's torch version and the BLAS library its process has mapped. Debian's python3-torch calls the
    /// libblas.so.3 that update-alternatives selects: OpenBLAS when libopenblas0 is installed, else netlib's reference
    /// BLAS, whose 1000x784x128 GEMM is ~40 times slower; ratios against that peer measure the BLAS, not PyTorch
    /// (a session read a "TorchSharp/PyTorch 0.04" that way), so the bench says which one it is comparing with.
    /// </summary>
    private static PythonPeer Described(PythonPeer peer, TextWriter log)
    {
        const string probe = "import torch, os; torch.ones(64, 64) @ torch.ones(64, 64); "
            + "libs = sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if 'blas' in l.split()[-1].lower()}); "
            + "print(torch.__version__ + ' | ' + (', '.join(libs) or 'none mapped'))";
        if (Run(Interpreter, $"-c \"{probe}\"", out string described) != 0) { log.WriteLine("PyTorch peer: found; its BLAS could not be read."); return peer; }
        string line = described.Trim();
        log.WriteLine($"PyTorch peer: torch {line.Replace(" | ", ", BLAS ")}");
        if (IsReferenceBlas(line))
            log.WriteLine("PyTorch peer: WARNING: this is netlib's reference BLAS, not an optimised one; the TorchSharp/PyTorch ratios below measure that BLAS ("
                + "`apt-get install libopenblas0-pthread` makes Debian's PyTorch use OpenBLAS).");
        return peer;
    }

    /// <summary>Whether the peer's libblas.so.3 is netlib's reference implementation (Debian's libblas3, installed under
    /// .../blas/). OpenBLAS's LAPACK may be mapped beside it (it was, with LD_LIBRARY_PATH pointing at netlib's folder:
    /// the GEMM took 56 ms instead of 1.5), so only the libblas path decides.</summary>
    private static bool IsReferenceBlas(string mappedLibraries) =>
        mappedLibraries.Contains("/blas/libblas.so", StringComparison.Ordinal);

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
