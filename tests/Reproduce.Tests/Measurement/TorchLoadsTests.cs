using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement;

[TestFixture, Category("Unit")]
public class TorchLoadsTests
{
    [Test]
    public void NativeLibraryLoadsAndComputes()
    {
        using var a = tensor(new double[] { 1, 2, 3 });
        Assert.That((a * a).sum().item<double>(), Is.EqualTo(14.0));
    }
}
