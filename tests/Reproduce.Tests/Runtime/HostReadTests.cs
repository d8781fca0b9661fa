using System.Text.RegularExpressions;
using NUnit.Framework;
using Reproduce.Runtime.Devices;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Runtime;

/// <summary>
/// Host reads go through <see cref="HostRead"/>: <c>Tensor.data&lt;T&gt;()</c> works only on CPU tensors, so a direct
/// call on a tensor that may live on a GPU breaks the device seam on the first CUDA run. The source scan fails on any
/// new direct call.
/// </summary>
[TestFixture, Category("Unit")]
public class HostReadTests
{
    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void ReadsRowMajorValuesFromAnyDeviceAndLayout(Device device)
    {
        using var scope = NewDisposeScope();
        var m = arange(6, dtype: ScalarType.Float64).reshape(2, 3).to(device);
        Assert.That(HostRead.ToArray<double>(m), Is.EqualTo(new double[] { 0, 1, 2, 3, 4, 5 }));
        Assert.That(HostRead.ToArray<double>(m.t()), Is.EqualTo(new double[] { 0, 3, 1, 4, 2, 5 }), "a transposed view reads in its own row-major order");
        Assert.That(HostRead.ToArray<long>(arange(3, dtype: ScalarType.Int64).to(device)), Is.EqualTo(new long[] { 0, 1, 2 }));
    }

    /// <summary>
    /// The direct <c>.data&lt;</c> calls allowed outside HostRead, with how many each file may hold and why. Anything else
    /// in src/ fails the test: route it through HostRead.ToArray (moving to the host first).
    /// </summary>
    private static readonly Dictionary<string, (int Count, string Why)> Exceptions = new()
    {
        // Benchmarks build their own CPU tensors and never take a device.
        ["src/Reproduce.Cli/Bench/HessianBenchmark.cs"] = (2, "CPU benchmark inputs written to files"),
    };

    [Test]
    public void NoSourceFileReadsTensorDataExceptThroughHostRead()
    {
        var helper = Path.Combine("src", "Reproduce.Runtime", "Devices", "HostRead.cs");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Repository.Path("src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Repository.Root, file).Replace('\\', '/');
            if (relative.Contains("/obj/") || relative.Contains("/bin/") || relative == helper.Replace('\\', '/')) continue;
            // Code only: a comment may mention data<T>() (HostRead's own documentation does).
            int count = File.ReadLines(file).Select(l => l.Split("//")[0]).Sum(l => Regex.Matches(l, @"\.data<").Count);
            if (count == 0) continue;
            if (!Exceptions.TryGetValue(relative, out var allowed) || count > allowed.Count)
                offenders.Add($"{relative}: {count} direct .data< read(s){(Exceptions.ContainsKey(relative) ? $", {allowed.Count} allowed" : "")}");
        }
        Assert.That(offenders, Is.Empty, "Read tensors into arrays with HostRead.ToArray<T>(tensor), which copies a device tensor to the host first.");
    }
}
