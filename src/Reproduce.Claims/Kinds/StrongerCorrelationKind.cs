using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// One metric orders the pooled runs by a third more strongly than a rival metric does: metrics [x, rival, y],
/// D = tau_b(x, y) - tau_b(rival, y) over the same runs. The two taus share y, so they are dependent and their separate
/// tests say nothing about D: the test is the delete-one jackknife of D (<see cref="KendallTauDifference"/>).
/// </summary>
public sealed class StrongerCorrelationKind : ClaimKind
{
    public override string Name => "stronger-correlation";
    public override string Description => "metrics [x, rival, y]: D = tau_b(x, y) - tau_b(rival, y) over the same pooled runs, by the delete-one jackknife";
    public override IReadOnlyList<string> Tests => ["kendall-tau-difference"];
    public override IReadOnlyList<string> Directions => Specs.Directions.StrongerCorrelation;
    public override bool RequiresReference => false;
    public override bool PoolsEveryRegime => true;

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        if (claim.Metrics is not null && claim.Metrics.Count != 3) reader.Error("$.metrics", $"a stronger-correlation claim names exactly three metrics [x, rival, y]; found {claim.Metrics.Count}");
        if (claim.Test is not null && claim.Test != "kendall-tau-difference") reader.Error("$.test", "a stronger-correlation claim uses kendall-tau-difference (two dependent taus, by the jackknife)");
        if (claim.PerGroup) reader.Error("$.metrics", "a per-group metric has no value per run to pool");
    }

    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests) =>
        AddPooledCorrelations(evaluator, claim, tests, setting => Contrast(evaluator, setting, claim));

    /// <summary>
    /// One setting: the runs of the claim's regimes (every regime of the setting when it names none) with all three
    /// metrics; D pooled over them, tested by the delete-one jackknife (which needs 10 runs: fewer is no data), with a
    /// seeded percentile bootstrap interval over runs; the same difference within regimes reported beside it, and each
    /// measure's own tau within each regime of at least 3 runs.
    /// </summary>
    private static CorrelationOutcome Contrast(ClaimEvaluator evaluator, string setting, ClaimSpec claim)
    {
        string xName = claim.Metrics[0], rivalName = claim.Metrics[1], yName = claim.Metrics[2];
        var regimes = evaluator.PooledRegimes(setting, claim);
        var points = new List<CorrelationPoint>();
        foreach (var regime in regimes)
        {
            var x = evaluator.Values(setting, regime, xName, out _);
            var z = evaluator.Values(setting, regime, rivalName, out _);
            var y = evaluator.Values(setting, regime, yName, out _);
            foreach (var s in x.Keys.Intersect(z.Keys).Intersect(y.Keys).Order()) points.Add(new CorrelationPoint(regime, s, x[s], y[s], z[s]));
        }
        var byRegime = points.GroupBy(p => p.Regime).Where(g => g.Count() >= 3).ToList();
        var outcome = new CorrelationOutcome
        {
            Setting = setting, X = xName, Y = yName, Rival = rivalName, Expected = claim.Direction, Family = claim.Family, Runs = points.Count,
            Tau = double.NaN, P = double.NaN, POpposite = double.NaN, Points = points,
            TauWithinRegime = byRegime.ToDictionary(g => g.Key, g => KendallTau.Test([.. g.Select(p => p.X)], [.. g.Select(p => p.Y)]).Tau),
            RivalTauWithinRegime = byRegime.ToDictionary(g => g.Key, g => KendallTau.Test([.. g.Select(p => p.Rival)], [.. g.Select(p => p.Y)]).Tau),
        };
        if (points.Count < KendallTauDifference.MinimumCount) { outcome.Verdict = Verdicts.NoData; return outcome; }
        List<double> xs = [.. points.Select(p => p.X)], zs = [.. points.Select(p => p.Rival)], ys = [.. points.Select(p => p.Y)];
        var d = KendallTauDifference.Test(xs, zs, ys);
        bool positive = claim.Direction == "positive";
        var regimeIndex = regimes.Select((r, i) => (r, i)).ToDictionary(t => t.r, t => t.i);
        var within = KendallTauDifference.Stratified(xs, zs, ys, [.. points.Select(p => regimeIndex[p.Regime])]);
        var interval = BootstrapInterval.Percentile(points, sample => KendallTau.Test([.. sample.Select(p => p.X)], [.. sample.Select(p => p.Y)]).Tau
            - KendallTau.Test([.. sample.Select(p => p.Rival)], [.. sample.Select(p => p.Y)]).Tau, resamples: 2000, seed: 0);
        return outcome with
        {
            Tau = d.Tau, RivalTau = d.RivalTau, TauDifference = d.Difference, TauDifferenceStandardError = d.StandardError, P = positive ? d.PGreater : d.PLess, POpposite = positive ? d.PLess : d.PGreater,
            TauDifferenceLower = interval.Lower, TauDifferenceUpper = interval.Upper,
            StratifiedTauDifference = within.Difference, StratifiedDifferenceP = within.PValue,
        };
    }
}
