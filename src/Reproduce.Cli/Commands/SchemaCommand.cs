using System.CommandLine;
using Reproduce.Claims.Specs;
using Reproduce.Training.Checkpoints;

namespace Reproduce.Cli.Commands;

/// <summary>reproduce schema: claims/claim.schema.json with its metric and regime enums taken from the registries
/// (<see cref="ClaimSchema"/>), printed, or written over the file with --write.</summary>
internal static class SchemaCommand
{
    public static Command Create()
    {
        var write = new Option<bool>("--write") { Description = "Rewrite claims/claim.schema.json instead of printing it." };
        var command = new Command("schema", "Print claims/claim.schema.json with its metric and regime names taken from the registries (--write: update the file).") { write };
        CommonOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var options = CommonOptions.Load(parse);
            string path = Path.Combine(options.Resolve(options.ClaimsFolder), ClaimSchema.FileName);
            if (!File.Exists(path)) throw new FileNotFoundException($"Claim schema not found: {path}", path);
            string current = File.ReadAllText(path), generated = ClaimSchema.Generate(current, path);
            if (!parse.GetValue(write)) { Console.Write(generated); return 0; }
            if (generated == current) Console.Error.WriteLine($"{path}: already up to date.");
            else { AtomicFile.WriteAllText(path, generated); Console.Error.WriteLine($"{path}: metric and regime enums updated from the registries."); }
            return 0;
        });
        return command;
    }
}
