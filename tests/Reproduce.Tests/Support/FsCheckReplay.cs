[assembly: Reproduce.Tests.Support.FsCheckReplayFromEnvironment]

namespace Reproduce.Tests.Support;

/// <summary>
/// Replays a failed FsCheck property without editing its attribute: when the environment variable FSCHECK_REPLAY
/// holds the seed pair a failure printed, e.g. FSCHECK_REPLAY="(10126760926269348048,5578244528975115849)", every
/// [FsCheck.NUnit.Property] in the run starts from that seed (so filter the run to the failing property).
/// FsCheck.NUnit reads assembly-level <see cref="FsCheck.NUnit.PropertiesAttribute"/> configuration under each
/// method's own; a Replay set on a method still wins. Unset or empty: FsCheck draws a fresh random seed as usual.
/// See the note atop StatisticsPropertyTests.cs for what a failure prints and the exact command.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class FsCheckReplayFromEnvironmentAttribute : FsCheck.NUnit.PropertiesAttribute
{
    public const string Variable = "FSCHECK_REPLAY";

    public FsCheckReplayFromEnvironmentAttribute()
    {
        var replay = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(replay)) Replay = replay.Trim();
    }
}
