using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>What every curvature operator of an objective shares: its size, dtype and device come from the objective (so from its parameters), and it counts its applications.</summary>
public abstract class ObjectiveOperator<TObjective> : ILinearOperator where TObjective : IObjective
{
    protected ObjectiveOperator(TObjective objective)
    {
        Objective = objective ?? throw new ArgumentNullException(nameof(objective));
    }

    protected TObjective Objective { get; }
    public long Dimension => Objective.Dimension;
    public ScalarType Dtype => Objective.Dtype;
    public Device Device => Objective.Device;
    public long ApplyCount { get; protected set; }

    public abstract Tensor Apply(Tensor v);
}
