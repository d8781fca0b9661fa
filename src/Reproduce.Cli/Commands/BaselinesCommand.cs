using System.CommandLine;
using Reproduce.Claims;
using Reproduce.Claims.Baselines;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce baselines diff | accept: the review step of the snapshot workflow. diff shows every pending
/// *.received.json against its baseline; accept promotes received snapshots (one claim, or --all) with a review note.
/// </summary>
internal static class BaselinesCommand
{
    public static Command Create()
    {
        var diff = new Command("diff", "Show each pending received snapshot against its reviewed baseline.");
        CommonOptions.AddTo(diff);
        diff.SetAction(parse =>
        {
            var options = CommonOptions.Load(parse);
            var store = new BaselineStore(options.Resolve(options.BaselinesFolder));
            var pending = store.PendingReceived(options.Profile);
            foreach (var file in pending)
            {
                var received = BaselineStore.ReadFile(file);
                var reviewed = store.Read(options.Profile, received.Claim);
                Console.WriteLine($"{received.Claim}: {(reviewed is null ? "new (no baseline yet)" : $"baseline '{reviewed.Verdict}', received '{received.Verdict}'")}");
                if (reviewed is null) continue;
                var rule = BaselineComparer.RuleFor(reviewed, received.Environment);
                Console.WriteLine($"    ({rule.ToString().ToLowerInvariant()} rule: baseline recorded in {reviewed.Environment}, received in {received.Environment})");
                foreach (var d in BaselineComparer.Differences(reviewed, received, rule)) Console.WriteLine($"    {d}");
            }
            Console.Error.WriteLine($"{pending.Count} received snapshot(s) pending at profile {options.Profile}.");
            return pending.Count > 0 ? 1 : 0;
        });
        var claim = new Argument<string?>("claim") { Description = "Claim id to accept (or --all).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Accept every pending received snapshot of the profile." };
        var review = new Option<string>("--review") { Description = "Who reviewed it and why it is right (stored in the baseline).", Required = true };
        var accept = new Command("accept", "Promote received snapshots to reviewed baselines.") { claim, all, review };
        CommonOptions.AddTo(accept);
        accept.SetAction(parse =>
        {
            var options = CommonOptions.Load(parse);
            var store = new BaselineStore(options.Resolve(options.BaselinesFolder));
            var ids = parse.GetValue(all)
                ? store.PendingReceived(options.Profile).Select(f => Path.GetFileName(f).Replace(".received.json", "")).ToList()
                : parse.GetValue(claim) is { } one ? [one] : throw new ArgumentException("Name a claim or pass --all.");
            foreach (var id in ids) Console.WriteLine($"accepted {store.Accept(options.Profile, id, parse.GetValue(review)!)}");
            return 0;
        });
        return new Command("baselines", "Review and accept baseline snapshots.") { diff, accept };
    }
}
