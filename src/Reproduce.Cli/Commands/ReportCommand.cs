using System.CommandLine;
using Reproduce.Claims;

namespace Reproduce.Cli.Commands;

/// <summary>reproduce report: verdicts, baseline comparison and report from the stored results, without training.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var command = new Command("report", "Evaluate the claims from the stored results and write report.html and report.md (no training).");
        CommonOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var suite = ClaimSuite.Load(CommonOptions.Load(parse));
            if (!File.Exists(suite.Options.StorePath)) throw new FileNotFoundException($"No result store at {suite.Options.StorePath}: run `reproduce run` (or `reproduce merge`) first.");
            using var folderLock = suite.LockOutput();
            using var store = suite.OpenStore();
            return RunCommand.Evaluate(suite, store, parse.GetValue(CommonOptions.Json));
        });
        return command;
    }
}
