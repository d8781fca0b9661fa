using System.Diagnostics;
using System.Text.Json;
using Reproduce.Runtime.Native;

namespace Reproduce.Claims.Store;

/// <summary>Where a number came from: code version, TorchSharp version, device, threads, profile, machine.</summary>
public sealed record Provenance(string CodeVersion, string TorchSharpVersion, string Device, int Threads, string Profile, string Machine, string Os)
{
    /// <summary>Runs trained side by side (each gets Threads / Workers intra-op threads).</summary>
    public int Workers { get; init; } = 1;
    /// <summary>The processor's model name (/proc/cpuinfo), which decides libtorch's and MKL's kernels.</summary>
    public string Cpu { get; init; } = ExecutionEnvironment.CpuModel();
    /// <summary>oneMKL's dispatch in the process that produced the number (<see cref="MklDispatch.State"/>).</summary>
    public string Mkl { get; init; } = MklDispatch.State;
    /// <summary>Whether new CPU tensors started as zeros (<see cref="AllocationZeroing.State"/>). Not part of the
    /// environment: on kernels that read only what they wrote it changes no bit (the default profile's numbers are the
    /// same with and without it); it keeps the ones that do not from reading stale bytes.</summary>
    public string Allocations { get; init; } = AllocationZeroing.State;

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>What must be equal for two executions to give the same bits (the machine's name is not part of it).</summary>
    /// <summary>The environment a baseline pins: the device's kind (cuda:1 and cuda:0 run the same kernels), not its ordinal.</summary>
    public ExecutionEnvironment Environment => new(TorchSharpVersion, Cpu, Device.Split(':')[0], Threads, Workers) { Mkl = Mkl };

    public static Provenance Capture(string repositoryRoot, string device, int threads, string profile, int workers = 1) => new(
        GitVersion(repositoryRoot), ExecutionEnvironment.TorchSharpVersion,
        device, threads, profile, System.Environment.MachineName, System.Runtime.InteropServices.RuntimeInformation.OSDescription) { Workers = workers };

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

/// <summary>
/// The conditions under which the suite is bit-for-bit deterministic: the same TorchSharp (so libtorch) build, the
/// same processor model (libtorch and MKL choose kernels by CPU), the same MKL dispatch (<see cref="MklDispatch"/>), the
/// same device, and the same threads and worker split (each run's intra-op thread count changes the order of
/// floating-point reductions). Two executions that agree on all six give identical stored values; baselines are then compared exactly, otherwise by a statistical rule.
/// </summary>
public sealed record ExecutionEnvironment(string TorchSharp, string Cpu, string Device, int Threads, int Workers)
{
    /// <summary>oneMKL's dispatch (<see cref="MklDispatch.State"/>): its fast and generic kernels round differently.</summary>
    public string Mkl { get; init; } = "";

    public static string TorchSharpVersion => typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    public override string ToString() => $"TorchSharp {TorchSharp}, {Cpu}, MKL {Mkl}, {Device}, {Threads} threads, {Workers} worker(s)";

    /// <summary>Instruction sets that change which kernels libtorch and oneMKL dispatch to (so the bits they produce).</summary>
    private static readonly string[] KernelFlags = ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile"];

    /// <summary>
    /// The first "model name" in /proc/cpuinfo, its family, model number and stepping, and the kernel-relevant
    /// instruction sets it reports, e.g. "AMD EPYC, family 26 model 2 stepping 1 (avx avx2 fma avx512f ...)": a virtual
    /// machine may show only a family name, two machines of one name can expose different instruction sets, and two of
    /// one name and the same instruction sets can be different microarchitectures whose kernels round differently (a
    /// LeNet's Hessian top eigenvalue, from oneDNN's convolution primitives, moved at 1e-5 between the machine the
    /// baselines of 2026-11 were recorded on and an EPYC of family 26, both "AMD EPYC" with the same flags, while every
    /// trained weight stayed bit-identical). The process architecture where there is no /proc/cpuinfo.
    /// </summary>
    public static string CpuModel()
    {
        var cpu = CpuIdentity.Read();
        var isa = KernelFlags.Where(cpu.Flags.Contains).ToList();
        string name = cpu.Microarchitecture.Length > 0 ? $"{cpu.Model}, {cpu.Microarchitecture}" : cpu.Model;
        return isa.Count > 0 ? $"{name} ({string.Join(" ", isa)})" : name;
    }
}
