using Reproduce.Claims.Evaluation;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Statistics;

namespace Reproduce.Claims.Kinds;

/// <summary>
/// Two metrics [x, y] move together over the pooled runs of a setting: Kendall's tau-b pooled over the claim's regimes
/// (every regime of the setting when it names none), with a bootstrap interval, and within each regime (reported).
/// </summary>
public sealed class CorrelationKind : ClaimKind
{
    public override string Name => "correlation";
    public override string Description => "Kendall tau between two metrics over runs, pooled over regimes (and within each regime, reported)";
    public override IReadOnlyList<string> Tests => ["kendall-tau"];
    public override IReadOnlyList<string> Directions => Specs.Directions.Correlation;
    public override bool RequiresReference => false;
    public override bool PoolsEveryRegime => true;

    internal override void Check(ClaimDraft claim, JsonReader reader)
    {
        if (claim.Metrics is not null && claim.Metrics.Count != 2) reader.Error("$.metrics", $"a correlation claim names exactly two metrics [x, y]; found {claim.Metrics.Count}");
        if (claim.Test is not null && claim.Test != "kendall-tau") reader.Error("$.test", "a correlation claim uses kendall-tau");
    }

    public override void Evaluate(ClaimEvaluator evaluator, ClaimSpec claim, ClaimTests tests) =>
        AddPooledCorrelations(evaluator, claim, tests, setting => Correlate(evaluator, setting, claim));

    private static CorrelationOutcome Correlate(ClaimEvaluator evaluator, string setting, ClaimSpec claim)
    {
        var regimes = evaluator.PooledRegimes(setting, claim);
        var points = new List<CorrelationPoint>();
        foreach (var regime in regimes)
        {
            var x = evaluator.Values(setting, regime, claim.Metrics[0], out _);
            var y = evaluator.Values(setting, regime, claim.Metrics[1], out _);
            foreach (var s in x.Keys.Intersect(y.Keys).Order()) points.Add(new CorrelationPoint(regime, s, x[s], y[s]));
        }
        var (alt, opp) = claim.Direction switch
        {
            "positive" => (Alternative.Greater, Alternative.Less),
            "negative" => (Alternative.Less, Alternative.Greater),
            _ => (Alternative.Less, Alternative.Greater), // not-positive: contradicted by a significant positive tau
        };
        var within = points.GroupBy(p => p.Regime).Where(g => g.Count() >= 3)
            .ToDictionary(g => g.Key, g => KendallTau.Test([.. g.Select(p => p.X)], [.. g.Select(p => p.Y)]).Tau);
        if (points.Count < 3)
            return new CorrelationOutcome { Setting = setting, X = claim.Metrics[0], Y = claim.Metrics[1], Expected = claim.Direction, Family = claim.Family, Runs = points.Count, Tau = double.NaN, P = double.NaN, POpposite = double.NaN, TauWithinRegime = within, Points = points, Verdict = Verdicts.NoData };
        var xs = points.Select(p => p.X).ToList(); var ys = points.Select(p => p.Y).ToList();
        var t = KendallTau.Test(xs, ys, alt);
        var to = KendallTau.Test(xs, ys, opp);
        // Seeded percentile bootstrap over runs: the interval a re-run on another machine is held to.
        var interval = BootstrapInterval.Percentile(points, sample => KendallTau.Test([.. sample.Select(p => p.X)], [.. sample.Select(p => p.Y)]).Tau, resamples: 2000, seed: 0);
        var stratified = KendallTau.Stratified(points.GroupBy(p => p.Regime).Select(g => ((IReadOnlyList<double>)[.. g.Select(p => p.X)], (IReadOnlyList<double>)[.. g.Select(p => p.Y)])));
        return new CorrelationOutcome
        {
            Setting = setting, X = claim.Metrics[0], Y = claim.Metrics[1], Expected = claim.Direction, Family = claim.Family, Runs = points.Count,
            Tau = t.Tau, P = t.PValue, POpposite = to.PValue, TauWithinRegime = within, Points = points, TauLower = interval.Lower, TauUpper = interval.Upper,
            StratifiedTau = stratified.Tau, StratifiedP = stratified.PValue,
        };
    }
}
