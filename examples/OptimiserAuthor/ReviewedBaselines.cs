using System.Text;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;

namespace OptimiserAuthor;

/// <summary>A paper claim re-run with the author's optimiser, beside the suite's reviewed verdict for it.</summary>
/// <param name="Reviewed">The verdict in the suite's reviewed baseline (trained with the settings' own optimiser); null when there is none.</param>
/// <param name="Differences">How many values and statistics differ from the reviewed baseline under its rule.</param>
/// <param name="Received">The new snapshot, written for `reproduce baselines diff`-style reading (in the example's output folder).</param>
public sealed record VerdictMove(string Claim, string? Reviewed, string Verdict, string VerdictNote, BaselineRule Rule, int Differences, string? Received)
{
    public bool Moved => Reviewed != Verdict;
}

/// <summary>
/// Holds outcomes to the suite's reviewed baselines: the one place the example does it, so that it can switch to the
/// claims library's single verify-and-report call when that exists.
/// </summary>
public static class ReviewedBaselines
{
    /// <summary>
    /// Each outcome against baselines/&lt;profile&gt;/&lt;claim&gt;.json through <see cref="BaselineStore.Check"/>. Check
    /// writes &lt;claim&gt;.received.json beside the baseline it checks; a run with another optimiser is never a candidate
    /// for the suite's baselines (accepting it would replace the SGD record), so the reviewed baselines are copied into
    /// <paramref name="outputFolder"/> first and checked there: the suite's baselines folder is only read.
    /// </summary>
    public static IReadOnlyList<VerdictMove> Compare(IReadOnlyList<ClaimOutcome> outcomes, ClaimSuite suite, string outputFolder)
    {
        string profile = suite.Options.Profile;
        string reviewed = Path.Combine(suite.Options.Resolve(suite.Options.BaselinesFolder), profile);
        string copy = Path.Combine(outputFolder, "baselines");
        Directory.CreateDirectory(Path.Combine(copy, profile));
        foreach (var outcome in outcomes)
        {
            string file = Path.Combine(reviewed, $"{outcome.ClaimId}.json");
            if (File.Exists(file)) File.Copy(file, Path.Combine(copy, profile, $"{outcome.ClaimId}.json"), overwrite: true);
        }
        var store = new BaselineStore(copy);
        var provenance = suite.CaptureProvenance();
        return [.. outcomes.Select(o =>
        {
            var check = store.Check(o, provenance.CodeVersion, provenance.Environment);
            return new VerdictMove(o.ClaimId, check.Reviewed?.Verdict, o.Verdict, o.VerdictNote, check.Rule, check.Reviewed is null ? 0 : check.Differences.Count, check.ReceivedPath);
        })];
    }

    /// <summary>The moved-verdicts table (Markdown): claim, reviewed verdict, new verdict, and how far the values moved.</summary>
    public static string Table(IReadOnlyList<VerdictMove> moves, string optimiser)
    {
        var text = new StringBuilder();
        text.AppendLine($"| claim | reviewed verdict (baselines) | verdict with {optimiser} | moved | values against the reviewed baseline |");
        text.AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var m in moves)
            text.AppendLine($"| {m.Claim} | {m.Reviewed ?? "(no reviewed baseline)"} | {m.Verdict} | {(m.Moved ? "**moved**" : "no")} | " +
                (m.Reviewed is null ? "—" : m.Differences == 0 ? $"all as reviewed ({m.Rule.ToString().ToLowerInvariant()} rule)" : $"{m.Differences} differences ({m.Rule.ToString().ToLowerInvariant()} rule)") + " |");
        return text.ToString();
    }
}
