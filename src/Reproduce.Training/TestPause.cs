namespace Reproduce.Training;

/// <summary>
/// Test-only hook of the crash-safety tests (tests/Reproduce.Tests/CrashSafety), so that a SIGKILL lands at a named
/// point instead of wherever a timer happens to fall. With REPRODUCE_TEST_PAUSE_AT=&lt;point&gt;[#n] the process stops
/// for good the n-th time (default: the first) any thread reaches &lt;point&gt;: it writes
/// "REPRODUCE_TEST_PAUSED &lt;point&gt;#n pid &lt;pid&gt;" to stderr and sleeps until the test kills it (after 300 s it
/// exits with code 3, so a lost test never leaves it behind). Other threads run on. Unset (always, outside those
/// tests), <see cref="At"/> is one comparison. Points: the run phases "training", "measuring", "cached", "finished"
/// (RunExecutor), "group" (a per-group metric stored), "merge-run" (a run copied by a merge) and "rename:&lt;file
/// name&gt;" (AtomicFile: the new content is complete in its temporary file, not yet renamed over the target).
/// </summary>
public static class TestPause
{
    public const string Variable = "REPRODUCE_TEST_PAUSE_AT";
    private static readonly (string Point, int Count)? Target = Parse(Environment.GetEnvironmentVariable(Variable));
    private static int hits;

    private static (string, int)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        int hash = value.LastIndexOf('#');
        return hash > 0 && int.TryParse(value[(hash + 1)..], out int n) && n >= 1 ? (value[..hash], n) : (value, 1);
    }

    public static void At(string point)
    {
        if (Target is not { } target || target.Point != point || Interlocked.Increment(ref hits) != target.Count) return;
        Console.Error.WriteLine($"REPRODUCE_TEST_PAUSED {point}#{target.Count} pid {Environment.ProcessId}");
        Console.Error.Flush();
        Thread.Sleep(TimeSpan.FromSeconds(300));
        Console.Error.WriteLine($"{Variable}: paused at {point} for 300 s and nobody killed this process; exiting.");
        Environment.Exit(3);
    }
}
