using System.Diagnostics;
using System.Text.Json;

namespace Reproduce.Claims.Store;

/// <summary>Where a number came from: code version, TorchSharp version, device, threads, profile, machine.</summary>
public sealed record Provenance(string CodeVersion, string TorchSharpVersion, string Device, int Threads, string Profile, string Machine, string Os)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static Provenance Capture(string repositoryRoot, string device, int threads, string profile) => new(
        GitVersion(repositoryRoot), typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown",
        device, threads, profile, Environment.MachineName, System.Runtime.InteropServices.RuntimeInformation.OSDescription);

    /// <summary>"git describe --always --dirty", or "unknown" outside a checkout.</summary>
    public static string GitVersion(string root)
    {
        try
        {
            var info = new ProcessStartInfo("git", ["-C", root, "describe", "--always", "--dirty"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(info);
            if (p is null) return "unknown";
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            return p.ExitCode == 0 && output.Length > 0 ? output : "unknown";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException) { return "unknown"; }
    }
}
