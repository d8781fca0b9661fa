using NUnit.Framework;
using Reproduce.Runtime.Devices;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Sharpness;
using Reproduce.Measurement.Spectral;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.Measurement.Placement;

/// <summary>
/// The device follows the model: operators, objectives and estimators take their device and dtype from the parameters
/// they act on, seeded draws come from CPU generators (so a seed gives the same bits on every device), and batch sources
/// hand out batches on the model's device. Checks over every available device (Support/Devices) plus, where values need
/// not be read, libtorch's data-free meta device, which is a second device on every machine: without it a CPU-only
/// machine could not tell a tensor created "on the model's device" from one created on the CPU by default.
/// </summary>
[TestFixture, Category("Unit")]
public class DevicePlacementTests
{
    private static (nn.Module<Tensor, Tensor> Model, TensorBatchSource Source, ModelObjective Objective) Float64Network(Device device)
    {
        var model = RandomNetworks.Mlp(new[] { 3, 5, 4 }, Activation.Tanh, seed: 1).to(device);
        var (x, y) = RandomNetworks.ClassificationData(11, 3, 4, seed: 1);
        var source = new TensorBatchSource(x, y, new[] { 4, 7 });
        return (model, source, new ModelObjective(model, LossKind.CrossEntropy, source));
    }

    private static string Where(Tensor t) => $"{t.dtype} on {t.device}";

    /// <summary>Same shape and the same float64 bit patterns (so -0.0 and 0.0 differ, as bits do).</summary>
    private static bool SameBits(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && HostRead.ToArray<double>(a).Select(BitConverter.DoubleToInt64Bits).SequenceEqual(HostRead.ToArray<double>(b).Select(BitConverter.DoubleToInt64Bits));

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void OperatorsOnAFloat64ModelYieldFloat64VectorsOnTheModelsDevice(Device device)
    {
        using var scope = NewDisposeScope();
        var (model, source, objective) = Float64Network(device);
        using var _ = source;
        var placement = ParameterPlacement.Of(model);
        Assert.That(placement.Dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That(DeviceTransfer.Same(placement.Device, device) || device.index < 0 && placement.Device.type == device.type, Is.True, $"placement {placement.Device}");
        Assert.That(objective.Dtype, Is.EqualTo(ScalarType.Float64));
        var v = randn(objective.Dimension, dtype: ScalarType.Float64, generator: new Generator(5)).to(device);
        foreach (var op in new ILinearOperator[] { new HessianOperator(objective), new GaussNewtonOperator(objective) })
        {
            Assert.That(op.Dtype, Is.EqualTo(ScalarType.Float64), op.GetType().Name);
            var hv = op.Apply(v);
            Assert.That(hv.dtype == ScalarType.Float64 && Devices.IsOn(hv, device), Is.True, $"{op.GetType().Name}: A v is {Where(hv)}");
            var dense = DenseMatrix.Of(op);
            Assert.That(dense.dtype == ScalarType.Float64 && Devices.IsOn(dense, device), Is.True, $"{op.GetType().Name}: dense matrix is {Where(dense)}");
        }
        var gradient = new HessianOperator(objective).Gradient();
        Assert.That(gradient.dtype == ScalarType.Float64 && Devices.IsOn(gradient, device), Is.True, $"gradient is {Where(gradient)}");
        using var lanczos = new LanczosEigensolver { ComputeVectors = true, MaxIterations = 20 }.Solve(new HessianOperator(objective), 2);
        Assert.That(lanczos.Vectors!.dtype == ScalarType.Float64 && Devices.IsOn(lanczos.Vectors, device), Is.True, $"Ritz vectors are {Where(lanczos.Vectors)}");
        using var power = new PowerIteration { MaxIterations = 5 }.Solve(new HessianOperator(objective), 1);
        Assert.That(power.Vectors!.dtype == ScalarType.Float64 && Devices.IsOn(power.Vectors, device), Is.True, $"power-iteration vectors are {Where(power.Vectors)}");
    }

    /// <summary>An operator on any device that only scales (works on the data-free meta device) and refuses vectors from elsewhere.</summary>
    private sealed class ScalingOperator(long dimension, Device device) : ILinearOperator
    {
        public long Dimension => dimension;
        public ScalarType Dtype => ScalarType.Float64;
        public Device Device => device;
        public long ApplyCount { get; private set; }
        public Tensor Apply(Tensor v)
        {
            Assert.That(Devices.IsOn(v, device), Is.True, $"the vector handed to the operator is on {v.device}, not {device}");
            ApplyCount++;
            return v * 2;
        }
    }

    [Test]
    public void DenseMatrixIsBuiltOnTheOperatorsDevice()
    {
        using var scope = NewDisposeScope();
        var dense = DenseMatrix.Of(new ScalingOperator(4, Devices.Meta));
        Assert.That(Devices.IsOn(dense, Devices.Meta), Is.True, $"the dense matrix is on {dense.device}");
        Assert.That(dense.shape, Is.EqualTo(new long[] { 4, 4 }));
    }

    [Test]
    public void AnOperatorRefusesAVectorFromAnotherDevice()
    {
        using var scope = NewDisposeScope();
        using var op = new MatrixOperator(eye(3, dtype: ScalarType.Float64));
        var elsewhere = zeros(3, dtype: ScalarType.Float64, device: Devices.Meta);
        var error = Assert.Throws<ArgumentException>(() => op.Apply(elsewhere));
        Assert.That(error!.Message, Does.Contain("live on cpu").And.Contain("meta"));
    }

    [Test]
    public void BatchSourceHandsOutItsOwnBatchesOnItsDeviceAndCachedCopiesElsewhere()
    {
        using var scope = NewDisposeScope();
        var (x, y) = RandomNetworks.ClassificationData(7, 3, 2, seed: 4);
        using var source = new TensorBatchSource(x, y, new[] { 3, 4 });
        for (int b = 0; b < source.BatchCount; b++)
        {
            // On the device the data lives on: the very same batch (no copy, so CPU values are untouched).
            Assert.That(source.GetBatch(b, CPU), Is.SameAs(source.GetBatch(b)));
            var moved = source.GetBatch(b, Devices.Meta);
            Assert.That(Devices.IsOn(moved.Inputs, Devices.Meta) && Devices.IsOn(moved.Targets, Devices.Meta), Is.True,
                $"batch {b} moved to {moved.Inputs.device} / {moved.Targets.device}");
            Assert.That(moved.Inputs.shape, Is.EqualTo(source.GetBatch(b).Inputs.shape));
            Assert.That(moved.Targets.dtype, Is.EqualTo(ScalarType.Int64));
            Assert.That(source.GetBatch(b, Devices.Meta), Is.SameAs(moved), "each batch is copied to a device once");
        }
    }

    [Test]
    public void PlacementIsTheParametersDeviceAndDtypeAndRefusesASplitModel()
    {
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(new[] { 2, 3, 2 }, Activation.Tanh, seed: 2);
        Assert.That(ParameterPlacement.Of(model), Is.EqualTo(new ParameterPlacement(CPU, ScalarType.Float64)).Using<ParameterPlacement>((a, b) => a.Dtype == b.Dtype && a.Device.type == b.Device.type));
        model.to(Devices.Meta);
        var onMeta = ParameterPlacement.Of(model);
        Assert.That(onMeta.Device.type, Is.EqualTo(DeviceType.META));
        Assert.That(onMeta.Dtype, Is.EqualTo(ScalarType.Float64));
        var split = new[] { zeros(2, dtype: ScalarType.Float64), zeros(2, dtype: ScalarType.Float64, device: Devices.Meta) };
        var error = Assert.Throws<ArgumentException>(() => ParameterPlacement.Of(split, "The pair"));
        Assert.That(error!.Message, Does.Contain("parameter 1 is on meta but parameter 0 is on cpu"));
    }

    [Test]
    public void OnDeviceIsTheIdentityOnTheSameDeviceAndACopyElsewhere()
    {
        using var scope = NewDisposeScope();
        var t = arange(5, dtype: ScalarType.Float64);
        Assert.That(t.OnDevice(CPU), Is.SameAs(t), "no copy and no new handle on the tensor's own device");
        var moved = t.OnDevice(Devices.Meta);
        Assert.That(moved, Is.Not.SameAs(t));
        Assert.That(Devices.IsOn(moved, Devices.Meta) && Devices.IsOn(t, CPU), Is.True);
    }

    /// <summary>Records (host copies of) the vectors an estimator applies its operator to.</summary>
    private sealed class RecordingOperator(ILinearOperator inner) : ILinearOperator
    {
        public List<Tensor> Inputs { get; } = [];
        public long Dimension => inner.Dimension;
        public ScalarType Dtype => inner.Dtype;
        public Device Device => inner.Device;
        public long ApplyCount => inner.ApplyCount;
        public Tensor Apply(Tensor v)
        {
            Inputs.Add(v.cpu().clone().DetachFromDisposeScope());
            return inner.Apply(v);
        }
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void SeededProbesAreTheCpuGeneratorsDrawsBitForBitOnEveryDevice(Device device)
    {
        using var scope = NewDisposeScope();
        const int n = 12, seed = 9, probes = 6;
        using var matrix = new MatrixOperator(new SpectrumCase(n, SpectrumKind.Indefinite, 3).Matrix().to(device));
        // Hutchinson: probe j is the j-th Rademacher draw of the CPU generator seeded with the estimator's seed.
        var hutchinson = new RecordingOperator(matrix);
        new HutchinsonTrace { Probes = probes, Seed = seed }.Estimate(hutchinson);
        var generator = new Generator(seed);
        for (int j = 0; j < probes; j++)
        {
            var draw = RandomProbes.Rademacher(n, generator);
            Assert.That(SameBits(hutchinson.Inputs[j], draw), Is.True, $"Hutchinson probe {j} on {device} differs from the CPU draw");
        }
        // Hutch++: the first Budget/3 applications are the sketch's columns, the CPU generator's first n x s draw.
        var plusPlus = new RecordingOperator(matrix);
        new HutchPlusPlus { Budget = 9, Seed = seed }.Estimate(plusPlus);
        var sketch = RandomProbes.RademacherMatrix(n, 3, new Generator(seed));
        for (int j = 0; j < 3; j++)
            Assert.That(SameBits(plusPlus.Inputs[j], sketch[TensorIndex.Colon, TensorIndex.Single(j)]), Is.True, $"Hutch++ sketch column {j} on {device} differs from the CPU draw");
        foreach (var t in hutchinson.Inputs.Concat(plusPlus.Inputs)) t.Dispose();
    }

    [TestCaseSource(typeof(Devices), nameof(Devices.Available))]
    public void SamSharpnessPerturbsByTheCpuGeneratorsDrawBitForBitOnEveryDevice(Device device)
    {
        using var scope = NewDisposeScope();
        const int seed = 4;
        const double rho = 0.5;
        var hostState = new[] { randn(new long[] { 3, 2 }, dtype: ScalarType.Float64, generator: new Generator(1)), randn(5, dtype: ScalarType.Float64, generator: new Generator(2)) };
        var state = hostState.Select(t => t.to(device)).ToList();
        var seen = new List<Tensor[]>();
        double Loss()
        {
            seen.Add(state.Select(t => t.cpu().clone().DetachFromDisposeScope()).ToArray());
            return state.Sum(t => t.square().sum().item<double>());
        }
        new SamSharpness { Rho = rho, Draws = 2, Seed = seed }.Measure(state, 11, Loss);
        // Calls: the base loss, then one per draw. Draw d perturbs tensor i by randn(shape_i) * rho / sqrt(P), the CPU
        // generator's draws in state order; adding to the saved value is one correctly rounded operation on any device.
        var generator = new Generator(seed);
        double scale = rho / Math.Sqrt(11);
        for (int d = 0; d < 2; d++)
            for (int i = 0; i < state.Count; i++)
            {
                var expected = hostState[i] + randn(hostState[i].shape, dtype: ScalarType.Float64, generator: generator) * scale;
                Assert.That(SameBits(seen[d + 1][i], expected), Is.True, $"draw {d}, tensor {i} on {device}: the perturbed state differs from the CPU draw");
            }
        for (int i = 0; i < state.Count; i++) Assert.That(SameBits(state[i], hostState[i]), Is.True, "state restored");
        foreach (var t in seen.SelectMany(s => s)) t.Dispose();
    }
}
