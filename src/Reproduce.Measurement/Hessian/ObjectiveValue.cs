using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Hessian;

/// <summary>The value of any objective, L = sum_t L_t, in float64, without building a graph.</summary>
public static class ObjectiveValue
{
    public static double Of(IObjective objective)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double total = 0;
        for (int t = 0; t < objective.TermCount; t++) total += objective.Term(t).to(ScalarType.Float64).item<double>();
        return total;
    }
}
