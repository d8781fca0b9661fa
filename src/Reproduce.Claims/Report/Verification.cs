using Reproduce.Claims.Baselines;
using Reproduce.Claims.Evaluation;

namespace Reproduce.Claims.Report;

/// <summary>A claim whose verdict differs from its reviewed baseline's: (claim, reviewed verdict, new verdict).</summary>
public sealed record MovedVerdict(string Claim, string ReviewedVerdict, string Verdict)
{
    public override string ToString() => $"{Claim}: {ReviewedVerdict} -> {Verdict}";
}

/// <summary>
/// One claim's outcome held against its reviewed baseline (<see cref="BaselineStore.Check"/>): the rule applied, the
/// differences it found and the received snapshot written for them. A baseline that cannot be read is a difference
/// too (<see cref="BaselineError"/>), with a received snapshot a reviewer can accept in its place.
/// </summary>
public sealed record ClaimVerification
{
    public required ClaimOutcome Outcome { get; init; }
    public string ClaimId => Outcome.ClaimId;
    public string Verdict => Outcome.Verdict;
    /// <summary>The reviewed baseline's verdict; null when there is none (or it could not be read).</summary>
    public string? ReviewedVerdict { get; init; }
    /// <summary>Exact in the baseline's execution environment, statistical elsewhere; null when the baseline could not be read.</summary>
    public BaselineRule? Rule { get; init; }
    /// <summary>What the rule found (["no reviewed baseline yet"] without one; the read error for an unreadable one); empty when it matches.</summary>
    public IReadOnlyList<string> Differences { get; init; } = [];
    /// <summary>The &lt;claim&gt;.received.json written because of a difference, or null.</summary>
    public string? ReceivedPath { get; init; }
    /// <summary>Why the reviewed baseline could not be read (file and field named), or null.</summary>
    public string? BaselineError { get; init; }

    /// <summary>A cell of a command-line sweep (<see cref="Specs.SweepSpec.Local"/>): not held to any baseline.</summary>
    public bool Local { get; init; }

    public bool Matches => Differences.Count == 0;
    /// <summary>A reviewed verdict exists and the new one is another.</summary>
    public bool Moved => ReviewedVerdict is not null && ReviewedVerdict != Verdict;
}

/// <summary>
/// What <see cref="ClaimSuite.VerifyAndReport"/> did: every selected claim's verdict against its reviewed baseline,
/// and the report files it wrote. From a test: <c>Assert.That(result.Moved, Is.Empty, result.Describe())</c> asks
/// "did any verdict move against the reviewed baselines"; <see cref="Regressions"/> counts every difference the
/// baseline rule finds (a moved verdict, a value outside its interval, a missing or unreadable baseline).
/// </summary>
public sealed record VerificationResult
{
    public required string Profile { get; init; }
    public required IReadOnlyList<ClaimVerification> Claims { get; init; }
    public required string ReportPath { get; init; }
    public required string MarkdownPath { get; init; }
    public required string OutcomesPath { get; init; }

    public IReadOnlyList<ClaimOutcome> Outcomes => [.. Claims.Select(c => c.Outcome)];
    /// <summary>Claims that differ from their baseline under its rule (or have none, or an unreadable one): the `run` exit code's 1.</summary>
    public int Regressions => Claims.Count(c => !c.Matches);
    /// <summary>Claims whose verdict is not their reviewed baseline's.</summary>
    public IReadOnlyList<MovedVerdict> Moved => [.. Claims.Where(c => c.Moved).Select(c => new MovedVerdict(c.ClaimId, c.ReviewedVerdict!, c.Verdict))];
    /// <summary>Claims without a readable reviewed baseline.</summary>
    public IReadOnlyList<string> Unreviewed => [.. Claims.Where(c => c.ReviewedVerdict is null && !c.Local).Select(c => c.ClaimId)];

    /// <summary>One line per claim that does not match, for an assertion message.</summary>
    public string Describe() => Regressions == 0
        ? $"all {Claims.Count} claims match their reviewed baselines at profile {Profile}"
        : $"{Regressions} of {Claims.Count} claims differ from their reviewed baselines at profile {Profile}:" + string.Concat(Claims.Where(c => !c.Matches).Select(c =>
            $"{Environment.NewLine}  {c.ClaimId}: {c.ReviewedVerdict ?? "no baseline"} -> {c.Verdict}{(c.Rule is { } r ? $" ({r.ToString().ToLowerInvariant()} rule)" : "")}: {string.Join("; ", c.Differences)}"));
}
