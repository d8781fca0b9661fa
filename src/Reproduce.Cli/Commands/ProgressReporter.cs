using Reproduce.Claims.Runner;
using Spectre.Console;

namespace Reproduce.Cli.Commands;

/// <summary>
/// Progress for a claims run. On an interactive terminal: a Spectre.Console bar per phase (runs done, with ETA and
/// the run being trained or measured). Otherwise (CI, redirected output), Spectre's fallback renderer is sparse and
/// forced interactivity floods the log with cursor codes, so plain lines go to stderr (<see cref="ProgressPrinter"/>).
/// Run names are escaped: a '[' in a Spectre description is markup and would abort its refresh thread.
/// </summary>
internal static class ProgressReporter
{
    public static T Run<T>(int total, Func<IProgress<RunEvent>, T> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (!console.Profile.Capabilities.Interactive || Console.IsErrorRedirected)
            return work(new ProgressPrinter(Console.Error));
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var runs = context.AddTask("runs", maxValue: Math.Max(1, total));
                var current = context.AddTask("starting", maxValue: 1);
                var gate = new object();
                var progress = new Progress(e =>
                {
                    lock (gate)
                    {
                        if (e.Phase is RunPhase.Finished or RunPhase.Diverged or RunPhase.Cached or RunPhase.Failed) runs.Increment(1);
                        current.Description = Markup.Escape($"{e.Run}: {e.Phase.ToString().ToLowerInvariant()} {e.Detail}");
                    }
                });
                result = work(progress);
                current.Value = current.MaxValue;
            });
        return result;
    }

    private sealed class Progress(Action<RunEvent> report) : IProgress<RunEvent>
    {
        public void Report(RunEvent value) => report(value);
    }
}
