using System.CommandLine;
using System.Text.Json;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Metrics;
using Reproduce.Training.Optimisers;
using Reproduce.Training.Regimes;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce list [claims|metrics|regimes|optimisers|kinds|sweeps]: the claims, what they compare, and their reviewed baseline
/// verdict at the profile (the default; a sweep's cells carry their sweep); or what claims and settings may name, read
/// from the registries: metrics with their family, kind, better direction and parameters, regimes, optimisers with their
/// own parameters, claim kinds with their tests and directions; or the verdict maps at the profile with their claims, axes and cells.
/// </summary>
internal static class ListCommand
{
    public static readonly IReadOnlyList<string> Subjects = ["claims", "metrics", "regimes", "optimisers", "kinds", "sweeps"];

    public static Command Create()
    {
        var subject = new Argument<string>("what") { Description = "claims (default) | metrics | regimes | optimisers | kinds | sweeps.", DefaultValueFactory = _ => "claims" };
        subject.AcceptOnlyFromAmong([.. Subjects]);
        var command = new Command("list", "List the claims with their settings, regimes, metrics and baseline verdicts; or the metrics, regimes or optimisers they may name.") { subject };
        CommonOptions.AddTo(command);
        command.SetAction(parse =>
        {
            bool json = parse.GetValue(CommonOptions.Json);
            switch (parse.GetValue(subject))
            {
                case "metrics": Metrics(json); return 0;
                case "regimes": Regimes(json); return 0;
                case "optimisers": Optimisers(json); return 0;
                case "kinds": Kinds(json); return 0;
            }
            var suite = ClaimSuite.Load(CommonOptions.Load(parse));
            if (parse.GetValue(subject) == "sweeps") { Sweeps(suite, json); return 0; }
            var baselines = new BaselineStore(suite.Options.Resolve(suite.Options.BaselinesFolder));
            var rows = suite.Claims.Select(c => new
            {
                id = c.Id, kind = c.Kind.Name, settings = c.Settings, reference = c.Reference, regimes = c.Regimes,
                metrics = c.Metrics, direction = c.Direction, family = c.Family, support = c.Support, sweep = c.Cell?.Sweep,
                baseline = baselines.Read(suite.Options.Profile, c.Id)?.Verdict ?? "none", statement = c.Statement,
            }).ToList();
            if (json) Console.WriteLine(JsonSerializer.Serialize(rows, BaselineStore.Json));
            else
                foreach (var r in rows)
                    Console.WriteLine($"{r.id,-34} {r.kind,-11} {string.Join(",", r.settings),-8} {string.Join(",", r.metrics),-40} baseline({suite.Options.Profile}): {r.baseline}");
            Console.Error.WriteLine($"{rows.Count} claims; plan at profile {suite.Options.Profile}: {suite.Plan().Runs.Count} runs.");
            return 0;
        });
        return command;
    }

    /// <summary>One row per sweep active at the suite's profile: its claims, axes, cells and where it was defined.</summary>
    public static void Sweeps(ClaimSuite suite, bool json)
    {
        var rows = suite.Sweeps.Select(w => new
        {
            id = w.Id, claims = w.Claims, settings = w.Settings, axes = w.Axes.ToDictionary(a => a.Field, a => a.Values),
            cells = suite.AllClaims.Count(c => c.Cell?.Sweep == w.Id), family = w.Family, local = w.Local, file = w.File, description = w.Description,
        }).ToList();
        if (json) Console.WriteLine(JsonSerializer.Serialize(rows, BaselineStore.Json));
        else
            foreach (var r in rows)
                Console.WriteLine($"{r.id,-28} {string.Join(",", r.claims),-48} {string.Join(" x ", r.axes.Select(a => $"{a.Key} [{string.Join(", ", a.Value.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}]")),-48} {r.cells} cells{(r.local ? " (local)" : "")}");
        Console.Error.WriteLine($"{rows.Count} sweeps at profile {suite.Options.Profile}.");
    }

    /// <summary>One row per registered metric, in registry order.</summary>
    public static void Metrics(bool json)
    {
        var rows = MetricRegistry.All.Select(m => new
        {
            name = m.Name, family = m.Family.ToString().ToLowerInvariant(), kind = m.PerGroup ? "per-group" : "per-run", better = m.Better,
            parameters = m.Parameters.ToDictionary(p => p.Name, p => p.FormattedValue), description = m.Description,
        }).ToList();
        if (json) { Console.WriteLine(JsonSerializer.Serialize(rows, BaselineStore.Json)); return; }
        foreach (var r in rows)
        {
            string parameters = string.Join(", ", r.parameters.Select(p => $"{p.Key} {p.Value}"));
            Console.WriteLine($"{r.name,-24} {r.family,-9} {r.kind,-9} {r.better ?? "-",-6} {(parameters.Length == 0 ? "-" : parameters),-44} {r.description}");
        }
    }

    /// <summary>One row per registered regime, with the fields it changes (its record as run keys serialise it).</summary>
    public static void Regimes(bool json)
    {
        var regimes = RegimeRegistry.Names.Select(RegimeRegistry.Get).ToList();
        if (json) { Console.WriteLine(JsonSerializer.Serialize(regimes, BaselineStore.Json)); return; }
        foreach (var r in regimes) Console.WriteLine($"{r.Name,-14} {r.Description}");
    }

    /// <summary>One row per registered claim kind, with the tests and directions a claim of that kind may name.</summary>
    public static void Kinds(bool json)
    {
        var rows = Reproduce.Claims.Kinds.ClaimKinds.All.Select(k => new
        {
            name = k.Name, tests = k.Tests, directions = k.HasDirectionAndTest ? k.Directions : [], description = k.Description,
        }).ToList();
        if (json) { Console.WriteLine(JsonSerializer.Serialize(rows, BaselineStore.Json)); return; }
        foreach (var k in rows)
            Console.WriteLine($"{k.name,-21} {(k.tests.Count == 0 ? "-" : string.Join(",", k.tests)),-42} {(k.directions.Count == 0 ? "-" : string.Join(",", k.directions)),-30} {k.description}");
    }

    /// <summary>One row per registered optimiser, with its own parameters and their defaults.</summary>
    public static void Optimisers(bool json)
    {
        var rows = OptimiserRegistry.All.Select(o => new { name = o.Name, description = o.Description, parameters = o.ParameterDefaults }).ToList();
        if (json) { Console.WriteLine(JsonSerializer.Serialize(rows, BaselineStore.Json)); return; }
        foreach (var o in rows)
        {
            string parameters = string.Join(", ", o.parameters.Select(p => $"{p.Key} {p.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"));
            Console.WriteLine($"{o.name,-8} {(parameters.Length == 0 ? "-" : parameters),-40} {o.description}");
        }
    }
}
