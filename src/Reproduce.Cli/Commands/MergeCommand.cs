using System.CommandLine;
using Reproduce.Claims;
using Reproduce.Claims.Store;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce merge: combine shard stores into the profile's store (refusing conflicting duplicates), then compute the
/// per-group metrics that need every seed (disagreement), which no shard could.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var stores = new Argument<string[]>("stores") { Description = "Shard stores (results/shard-*/<profile>.sqlite).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Merge shard result stores into the profile's store.") { stores };
        CommonOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var suite = ClaimSuite.Load(CommonOptions.Load(parse));
            using var folderLock = suite.LockOutput();
            using var target = suite.OpenStore();
            foreach (var path in parse.GetValue(stores)!)
            {
                if (!File.Exists(path)) throw new FileNotFoundException($"Shard store not found: {path}", path);
                using var shard = new ResultStore(path);
                var s = target.MergeFrom(shard);
                Console.Error.WriteLine($"{path}: {s.RunsAdded} runs and {s.MetricsAdded} metrics added ({s.RunsAlreadyPresent} runs, {s.MetricsAlreadyPresent} metrics already present); {s.SpectraAdded} spectra added ({s.SpectraAlreadyPresent} already present).");
            }
            var plan = suite.Plan();
            var summary = ProgressReporter.Run(plan.Runs.Count, progress => suite.Execute(plan, target, progress));
            Console.Error.WriteLine($"After merge: trained {summary.Trained} missing run(s), {summary.Cached} from store, {summary.MetricsMeasured} metrics measured. Store: {target.Path}");
            return summary.Failed > 0 ? 1 : 0;
        });
        return command;
    }
}
