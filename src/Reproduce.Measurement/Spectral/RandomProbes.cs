using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Spectral;

/// <summary>
/// Seeded probe vectors for the randomised estimators, drawn on the CPU by the caller's CPU generator (the estimators
/// then move them to the operator's device with <see cref="Runtime.Devices.DeviceTransfer.OnDevice"/>, so a seed gives the same
/// probes on every device).
/// </summary>
internal static class RandomProbes
{
    /// <summary>Entries +1 or -1 with probability 1/2 each (float64).</summary>
    public static Tensor Rademacher(long n, Generator generator) =>
        randint(0, 2, new long[] { n }, dtype: ScalarType.Float64, generator: generator).to(ScalarType.Float64) * 2.0 - 1.0;

    public static Tensor RademacherMatrix(long n, long columns, Generator generator) =>
        randint(0, 2, new long[] { n, columns }, dtype: ScalarType.Float64, generator: generator).to(ScalarType.Float64) * 2.0 - 1.0;
}
