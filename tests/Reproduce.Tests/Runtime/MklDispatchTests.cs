using NUnit.Framework;
using Reproduce.Runtime.Native;
using Reproduce.Tests.Support;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Models;

namespace Reproduce.Tests.Runtime;

/// <summary>
/// MKL's code path, read from MKL itself: with MKL_VERBOSE=1 its first call prints a banner naming the instruction
/// set it dispatches on. The override must give the AVX-512 (or AVX2) kernels on an AMD CPU that has them, and the
/// opt-out must give back MKL's own choice (the generic "Intel(R) Architecture processors" path on AMD).
/// </summary>
[TestFixture, Category("Unit"), NonParallelizable]
public class MklDispatchTests
{
    private static readonly bool AmdWithAvx2 = CpuIdentity.Read() is { Vendor: "AuthenticAMD" or "HygonGenuine" } cpu
        && cpu.Flags.Contains("avx2") && cpu.Flags.Contains("fma");

    private static string Banner(string? optOut)
    {
        var environment = new Dictionary<string, string> { ["MKL_VERBOSE"] = "1" };
        if (optOut is not null) environment[MklDispatch.OptOutVariable] = optOut;
        // The cheapest CLI call that reaches MKL: measuring a small MLP checkpoint's test accuracy (its linear layers
        // are libtorch GEMMs, which call MKL; a second or two, against a minute for the measures bench).
        var folder = Repository.TempFolder("mkl-banner");
        try
        {
            var path = Path.Combine(folder, "m.safetensors");
            using (var model = ModelSpec.ForMlp([784, 64, 10]).Build(1))
                Checkpoint.Save(path, model, new Dictionary<string, string> { ["regime"] = "Base" });
            var (code, stdout, stderr) = CliProcess.Run(environment, 120, "measure", path, "--train-size", "200", "--test-size", "200",
                "--measure-size", "100", "--metric", "test_accuracy");
            Assert.That(code, Is.EqualTo(0), stderr);
            var banner = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("MKL_VERBOSE oneMKL", StringComparison.Ordinal));
            Assert.That(banner, Is.Not.Null, "MKL printed no banner: libtorch did not call MKL");
            return banner!;
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void ThisProcessReportsItsDispatch()
    {
        string state = MklDispatch.Apply();
        Assert.That(MklDispatch.Apply(), Is.EqualTo(state), "applying twice changes nothing");
        if (AmdWithAvx2 && !MklDispatch.OptedOut) Assert.That(state, Does.StartWith("fast path"));
        else Assert.That(MklDispatch.FastPathOn, Is.False, state);
    }

    [Test]
    public void OnAmdMklTakesTheVectorKernelsUnlessOptedOut()
    {
        if (!AmdWithAvx2) Assert.Ignore($"not an AMD CPU with AVX2: MklDispatch leaves MKL alone here ({MklDispatch.State})");
        var cpu = CpuIdentity.Read();
        string on = Banner(null), off = Banner("off");
        Assert.That(on, Does.Contain(cpu.Flags.Contains("avx512f") ? "AVX-512" : "AVX2"), on);
        Assert.That(off, Does.Contain("Intel(R) Architecture processors").And.Not.Contain("AVX"), off);
    }
}
