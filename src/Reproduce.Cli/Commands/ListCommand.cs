using System.CommandLine;
using System.Text.Json;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;

namespace Reproduce.Cli.Commands;

/// <summary>reproduce list: the claims, what they compare, and their reviewed baseline verdict at the profile.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var command = new Command("list", "List the claims with their settings, regimes, metrics and baseline verdicts.");
        CommonOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var suite = ClaimSuite.Load(CommonOptions.Load(parse));
            var baselines = new BaselineStore(suite.Options.Resolve(suite.Options.BaselinesFolder));
            var rows = suite.Claims.Select(c => new
            {
                id = c.Id, kind = c.Kind.ToString().ToLowerInvariant(), settings = c.Settings, reference = c.Reference, regimes = c.Regimes,
                metrics = c.Metrics, direction = c.Direction, family = c.Family, support = c.Support,
                baseline = baselines.Read(suite.Options.Profile, c.Id)?.Verdict ?? "none", statement = c.Statement,
            }).ToList();
            if (parse.GetValue(CommonOptions.Json)) Console.WriteLine(JsonSerializer.Serialize(rows, BaselineStore.Json));
            else
                foreach (var r in rows)
                    Console.WriteLine($"{r.id,-34} {r.kind,-11} {string.Join(",", r.settings),-8} {string.Join(",", r.metrics),-40} baseline({suite.Options.Profile}): {r.baseline}");
            Console.Error.WriteLine($"{rows.Count} claims; plan at profile {suite.Options.Profile}: {suite.Plan().Runs.Count} runs.");
            return 0;
        });
        return command;
    }
}
