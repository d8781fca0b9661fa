using NUnit.Framework;
using Reproduce.Claims.Runner;
using Reproduce.Runtime.Devices;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Runtime;

/// <summary>
/// The Device setting: cpu, cuda and cuda:N are the names; CUDA is accepted only where torch.cuda.is_available(), and
/// refused elsewhere with the suite's configuration error naming the build switch. The machine's facts are passed in
/// (DeviceSetting.Problem's second overload), so a machine with a GPU still checks the no-GPU message, and vice versa.
/// </summary>
[TestFixture, Category("Unit")]
public class DeviceSettingTests
{
    [TestCase("cpu", false, 0, "cpu")]
    [TestCase("cpu", true, 2, "cuda")]
    [TestCase("cuda", true, 1, "cuda")]
    [TestCase("cuda:0", true, 1, "cuda")]
    [TestCase("cuda:1", true, 2, "cuda")]
    public void UsableNamesHaveNoProblem(string name, bool cudaAvailable, int cudaDevices, string backend) =>
        Assert.That(DeviceSetting.Problem(name, cudaAvailable, cudaDevices, backend), Is.Null);

    [TestCase("cuda", "cpu")]
    [TestCase("cuda:0", "cpu")]
    [TestCase("cuda", "cuda")]
    public void CudaWithoutAGpuNamesTheBuildSwitch(string name, string backend)
    {
        var problem = DeviceSetting.Problem(name, cudaAvailable: false, cudaDevices: 0, backend);
        Assert.That(problem, Does.Contain("-p:TorchBackend=cuda").And.Contain("torch.cuda.is_available() is false").And.Contain($"'{name}'"));
        // A cpu build must say the fix is a rebuild; a cuda build that sees no GPU must say the GPU or driver is missing.
        Assert.That(problem, backend == "cpu" ? Does.Contain("Rebuild with -p:TorchBackend=cuda") : Does.Contain("no usable GPU or driver"));
    }

    [Test]
    public void AnIndexBeyondTheDeviceCountIsNamed() =>
        Assert.That(DeviceSetting.Problem("cuda:2", cudaAvailable: true, cudaDevices: 2, "cuda"), Does.Contain("torch.cuda.device_count() is 2").And.Contain("cuda:0, cuda:1"));

    [TestCase("gpu"), TestCase("CUDA"), TestCase("Cpu"), TestCase("cuda:"), TestCase("cuda:-1"), TestCase("cuda: 1"), TestCase("cuda:1x"), TestCase(""), TestCase(null)]
    public void MalformedNamesAreUnknownDevices(string? name) =>
        Assert.That(DeviceSetting.Problem(name, cudaAvailable: true, cudaDevices: 4, "cuda"), Does.StartWith($"unknown device '{name}'; valid: cpu, cuda, cuda:N"));

    [Test]
    public void TheBuildRecordsItsTorchBackend() =>
        Assert.That(DeviceSetting.Backend, Is.AnyOf("cpu", "cuda"), "Reproduce.Measurement.csproj records $(TorchBackend) as assembly metadata");

    [Test]
    public void DeviceCudaIsAcceptedExactlyWhereTorchSeesCuda()
    {
        var folder = Repository.TempFolder("device-config");
        try
        {
            var overrides = new Dictionary<string, string?> { ["Device"] = "cuda" };
            if (torch.cuda.is_available())
            {
                var options = ReproduceOptions.Load(folder, overrides);
                Assert.That(options.TorchDevice().type, Is.EqualTo(DeviceType.CUDA));
            }
            else
            {
                var error = Assert.Throws<ArgumentException>(() => ReproduceOptions.Load(folder, overrides));
                Assert.That(error!.Message, Does.StartWith("Configuration: Device: 'cuda' needs a CUDA GPU").And.Contain("-p:TorchBackend=cuda"));
            }
            Assert.That(ReproduceOptions.Load(folder, new Dictionary<string, string?> { ["Device"] = "cpu" }).TorchDevice().type, Is.EqualTo(DeviceType.CPU));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void TheCatalogueOfDevicesStartsWithTheCpuAndListsEveryCudaDevice()
    {
        var names = DeviceSetting.Available().Select(d => d.ToString()).ToList();
        int cuda = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
        Assert.That(names, Is.EqualTo(new[] { "cpu" }.Concat(Enumerable.Range(0, cuda).Select(i => $"cuda:{i}"))));
    }
}
