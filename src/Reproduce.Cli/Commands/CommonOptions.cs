using System.CommandLine;
using Reproduce.Claims.Runner;

namespace Reproduce.Cli.Commands;

/// <summary>Options shared by the verbs; each maps to a configuration key, so appsettings and REPRODUCE__ variables apply too.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> Profile = new("--profile") { Description = "smoke | default | nightly (configuration key Profile)." };
    public static readonly Option<string?> Filter = new("--filter") { Description = "Only claims whose id contains this text." };
    public static readonly Option<string?> Output = new("--output") { Description = "Folder for the result store, checkpoints and reports." };
    public static readonly Option<int?> Threads = new("--threads") { Description = "libtorch threads in total." };
    public static readonly Option<int?> Workers = new("--workers") { Description = "Runs trained side by side (each gets threads / workers)." };
    public static readonly Option<string?> Device = new("--device") { Description = "cpu | cuda | cuda:N (cuda needs a build with -p:TorchBackend=cuda and a GPU)." };
    public static readonly Option<string> Root = new("--root") { Description = "Repository root (claims/, baselines/, appsettings.json).", DefaultValueFactory = _ => FindRoot() };
    public static readonly Option<bool> Json = new("--json") { Description = "Machine-readable output on stdout." };

    public static void AddTo(Command c) { foreach (var o in new Option[] { Profile, Filter, Output, Threads, Workers, Device, Root, Json }) c.Options.Add(o); }

    public static ReproduceOptions Load(ParseResult parse)
    {
        var overrides = new Dictionary<string, string?>();
        void Set(string key, object? value) { if (value is not null) overrides[key] = value.ToString(); }
        Set("Profile", parse.GetValue(Profile));
        Set("Filter", parse.GetValue(Filter));
        Set("OutputFolder", parse.GetValue(Output));
        Set("Threads", parse.GetValue(Threads));
        Set("Workers", parse.GetValue(Workers));
        Set("Device", parse.GetValue(Device));
        return ReproduceOptions.Load(parse.GetValue(Root)!, overrides);
    }

    public static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Reproduce.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
