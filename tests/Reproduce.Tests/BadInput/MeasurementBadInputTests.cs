using NUnit.Framework;
using Reproduce.Measurement;
using Reproduce.Measurement.Hessian;
using Reproduce.Measurement.Spectral;
using Reproduce.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Tests.BadInput;

/// <summary>Bad input to the Hessian core: each a clear .NET exception naming the problem, never a process abort.</summary>
[TestFixture, Category("BadInput")]
public class MeasurementBadInputTests
{
    private static (ModelObjective Objective, TensorBatchSource Source) SmallObjective()
    {
        var model = RandomNetworks.Mlp(new[] { 3, 4, 2 }, Activation.Tanh, 1);
        var (x, y) = RandomNetworks.ClassificationData(6, 3, 2, 1);
        var source = new TensorBatchSource(x, y, new[] { 2, 4 });
        return (new ModelObjective(model, LossKind.CrossEntropy, source), source);
    }

    [Test]
    public void VectorOfTheWrongLength()
    {
        using var scope = NewDisposeScope();
        var (objective, source) = SmallObjective();
        using var _ = source;
        var ex = Assert.Throws<ArgumentException>(() => new HessianOperator(objective).Apply(zeros(objective.Dimension + 1, dtype: ScalarType.Float64)));
        Assert.That(ex!.Message, Does.Contain($"length {objective.Dimension}"));
        Assert.Throws<ArgumentException>(() => new GaussNewtonOperator(objective).Apply(zeros(3, dtype: ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => new HessianOperator(objective).Apply(zeros(objective.Dimension, dtype: ScalarType.Float32)));
    }

    [Test]
    public void MismatchedDataShapes()
    {
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(new[] { 3, 4, 2 }, Activation.Tanh, 1);
        var (x, y) = RandomNetworks.ClassificationData(6, 5, 2, 1);   // 5 features, the model wants 3
        using var source = new TensorBatchSource(x, y, new[] { 6 });
        var objective = new ModelObjective(model, LossKind.CrossEntropy, source);
        Assert.Catch<Exception>(() => new HessianOperator(objective).Apply(zeros(objective.Dimension, dtype: ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => new TensorBatchSource(randn(5, 3), zeros(4, dtype: ScalarType.Int64), new[] { 5 }));
        Assert.Throws<ArgumentException>(() => new MatrixOperator(randn(3, 4, dtype: ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => new QuadraticObjective(eye(3, dtype: ScalarType.Float64), zeros(4, dtype: ScalarType.Float64), zeros(3, dtype: ScalarType.Float64)));
    }

    [Test]
    public void LabelsOutOfRangeAreNamed()
    {
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(new[] { 3, 4, 2 }, Activation.Tanh, 1);
        var x = randn(new long[] { 4, 3 }, dtype: ScalarType.Float64);
        using var source = new TensorBatchSource(x, tensor(new long[] { 0, 1, 2, 1 }), new[] { 4 });
        var ex = Assert.Throws<ArgumentException>(() => new ModelObjective(model, LossKind.CrossEntropy, source).Value());
        Assert.That(ex!.Message, Does.Contain("[0, 1]"));
    }

    [Test]
    public void KLargerThanTheDimension()
    {
        using var scope = NewDisposeScope();
        using var op = new MatrixOperator(eye(4, dtype: ScalarType.Float64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LanczosEigensolver().Solve(op, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PowerIteration().Solve(op, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HutchPlusPlus { Budget = 30 }.Estimate(op));
    }

    [Test]
    public void NaNInParametersOrData()
    {
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(new[] { 3, 4, 2 }, Activation.Tanh, 1);
        var (x, y) = RandomNetworks.ClassificationData(6, 3, 2, 1);
        using (no_grad()) model.parameters().First()[0, 0] = double.NaN;
        using var source = new TensorBatchSource(x, y, new[] { 6 });
        var ex = Assert.Throws<NonFiniteValueException>(() => new ModelObjective(model, LossKind.CrossEntropy, source));
        Assert.That(ex!.Message, Does.Contain("Parameter 0"));
        x[1, 1] = double.PositiveInfinity;
        Assert.Throws<NonFiniteValueException>(() => new TensorBatchSource(x, y, new[] { 6 }));
        using var op = new MatrixOperator(eye(3, dtype: ScalarType.Float64));
        Assert.Throws<NonFiniteValueException>(() => new MatrixOperator(full(3, 3, double.NaN, dtype: ScalarType.Float64)));
    }

    [Test]
    public void EmptyDataSource()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => new TensorBatchSource(zeros(0, 3, dtype: ScalarType.Float64), zeros(0, dtype: ScalarType.Int64), new[] { 1 }));
        Assert.That(ex!.Message, Does.Contain("empty"));
    }

    [Test]
    public void ModelSwitchedBackToTrainingModeIsRefused()
    {
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(new[] { 3, 4, 2 }, Activation.Tanh, 1);
        var (x, y) = RandomNetworks.ClassificationData(6, 3, 2, 1);
        using var source = new TensorBatchSource(x, y, new[] { 6 });
        var objective = new ModelObjective(model, LossKind.CrossEntropy, source);
        model.train();
        var ex = Assert.Throws<InvalidOperationException>(() => objective.Value());
        Assert.That(ex!.Message, Does.Contain("evaluation mode"));
    }

    [Test]
    public void UnknownParameterNameListsTheValidOnes()
    {
        using var scope = NewDisposeScope();
        var model = RandomNetworks.Mlp(new[] { 3, 4, 2 }, Activation.Tanh, 1);
        var (x, y) = RandomNetworks.ClassificationData(6, 3, 2, 1);
        using var source = new TensorBatchSource(x, y, new[] { 6 });
        var ex = Assert.Throws<ArgumentException>(() => new ModelObjective(model, LossKind.CrossEntropy, source, new[] { "classifier.weight" }));
        Assert.That(ex!.Message, Does.Contain("fc1.weight"));
    }
}
