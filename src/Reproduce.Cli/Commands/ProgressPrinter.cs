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
    private double workedShare, doneShare;

    public void Report(RunEvent e)
    {
        lock (gate)
        {
            // ETA from the estimated work, not the run count: a SAM run on a CNN costs twenty MLP runs.
            if (e.Phase is RunPhase.Finished or RunPhase.Diverged) { workedShare += e.Share; doneShare += e.Share; }
            else if (e.Phase is RunPhase.Cached or RunPhase.Failed) doneShare += e.Share;
            if (e.Phase == RunPhase.Measuring) return;
            double remaining = Math.Max(0, 1 - doneShare);
            string eta = workedShare > 0 && remaining > 1e-9 ? $", ETA {TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / workedShare * remaining):hh\\:mm\\:ss}" : "";
            writer.WriteLine($"[{e.Index}/{e.Total}] {e.Run}: {e.Phase.ToString().ToLowerInvariant()} {e.Detail} ({e.Seconds:0.0} s; elapsed {clock.Elapsed:hh\\:mm\\:ss}{eta})");
        }
    }
}
