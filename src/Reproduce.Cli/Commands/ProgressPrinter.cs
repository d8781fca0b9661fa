using System.Diagnostics;
using Reproduce.Claims.Runner;

namespace Reproduce.Cli.Commands;

/// <summary>
/// Plain progress lines with an ETA (elapsed / finished x remaining, over runs that did work). Written to stderr so
/// that --json output on stdout stays clean; one line per event, safe for CI logs.
/// </summary>
internal sealed class ProgressPrinter(TextWriter writer) : IProgress<RunEvent>
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly object gate = new();
    private int worked, done;

    public void Report(RunEvent e)
    {
        lock (gate)
        {
            if (e.Phase is RunPhase.Finished or RunPhase.Diverged) { worked++; done++; }
            else if (e.Phase is RunPhase.Cached or RunPhase.Failed) done++;
            if (e.Phase == RunPhase.Measuring) return;
            string eta = worked > 0 && done < e.Total ? $", ETA {TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / worked * (e.Total - done)):hh\\:mm\\:ss}" : "";
            writer.WriteLine($"[{e.Index}/{e.Total}] {e.Run}: {e.Phase.ToString().ToLowerInvariant()} {e.Detail} ({e.Seconds:0.0} s; elapsed {clock.Elapsed:hh\\:mm\\:ss}{eta})");
        }
    }
}
