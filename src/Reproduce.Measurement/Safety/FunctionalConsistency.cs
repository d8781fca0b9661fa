using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

public sealed record ConsistencyResult(double Disagreement, double JensenShannon, int Models, int OrderedPairs);

/// <summary>
/// Agreement between models trained with different seeds on the same test points. Disagreement = 1 - fraction of
/// points where two models' arg-max predictions match, averaged over all ordered pairs (a != b; 90 for 10 seeds;
/// it is symmetric, so this equals the unordered average). Jensen-Shannon divergence, natural log (so at most
/// ln 2), JS(p, q) = (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2, averaged over points and pairs.
/// </summary>
public static class FunctionalConsistency
{
    public static ConsistencyResult Compute(IReadOnlyList<Predictions> models)
    {
        if (models.Count < 2) throw new ArgumentException($"Consistency needs at least two models; got {models.Count}.");
        long n = models[0].Count, k = models[0].Classes;
        for (int i = 1; i < models.Count; i++)
            if (models[i].Count != n || models[i].Classes != k)
                throw new ArgumentException($"Model {i} has {models[i].Count} predictions over {models[i].Classes} classes; model 0 has {n} over {k}: they must be on the same points.");
        for (int i = 1; i < models.Count; i++)
            if (!models[i].Labels.eq(models[0].Labels).all().item<bool>())
                throw new ArgumentException($"Model {i} was evaluated on different labels than model 0: consistency needs the same test points.");
        using var scope = NewDisposeScope();
        double disagreement = 0, js = 0;
        int pairs = 0;
        for (int a = 0; a < models.Count; a++)
            for (int b = 0; b < models.Count; b++)
            {
                if (a == b) continue;
                disagreement += Disagreement(models[a], models[b]);
                js += JensenShannon(models[a], models[b]);
                pairs++;
            }
        return new ConsistencyResult(disagreement / pairs, js / pairs, models.Count, pairs);
    }

    public static double Disagreement(Predictions a, Predictions b)
    {
        using var scope = NewDisposeScope();
        return a.Predicted().ne(b.Predicted()).to(ScalarType.Float64).mean().item<double>();
    }

    public static double JensenShannon(Predictions a, Predictions b)
    {
        using var scope = NewDisposeScope();
        var p = a.Probabilities; var q = b.Probabilities;
        var m = (p + q) / 2;
        // x log(x/m) with 0 log 0 = 0.
        Tensor Kl(Tensor x) => where(x.gt(0), x * (x.clamp_min(1e-300).log() - m.clamp_min(1e-300).log()), zeros_like(x)).sum(1);
        return ((Kl(p) + Kl(q)) / 2).mean().item<double>();
    }
}
