using NUnit.Framework;
using Reproduce.Claims.Store;

namespace Reproduce.Tests.Claims.Store;

/// <summary>
/// The environment that decides the exact baseline rule names the processor's microarchitecture, not only its model
/// name and instruction sets: two "AMD EPYC" machines with the same flags (a family-26 EPYC and the machine the
/// baselines of 2026-11 were recorded on) give different bits for a LeNet's Hessian, so one's baselines must hold the
/// other to the statistical rule. Read against /proc/cpuinfo independently of the suite's parser.
/// </summary>
[TestFixture, Category("Unit")]
public class ExecutionEnvironmentTests
{
    [Test]
    public void TheCpuNamesFamilyModelAndSteppingWhereCpuinfoGivesThem()
    {
        if (!File.Exists("/proc/cpuinfo")) Assert.Ignore("no /proc/cpuinfo");
        var first = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0)
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
        if (!first.TryGetValue("cpu family", out var family)) Assert.Ignore("/proc/cpuinfo gives no family here");
        string cpu = ExecutionEnvironment.CpuModel();
        Assert.That(cpu, Does.StartWith($"{first["model name"]}, family {family} model {first["model"]} stepping {first["stepping"]}"));
        Assert.That(new Provenance("v", "t", "cpu", 2, "default", "m", "os").Environment.Cpu, Is.EqualTo(cpu));
    }
}
