using Microsoft.Extensions.Configuration;

namespace Reproduce.Claims.Runner;

/// <summary>
/// Settings of a claims run, bound from configuration with this precedence (lowest first): appsettings.json,
/// appsettings.&lt;profile&gt;.json (both in the repository root), REPRODUCE__* environment variables (REPRODUCE__Threads=1),
/// then command-line overrides (--Threads 1). The profile is read in a first pass so its file can be added.
/// </summary>
public sealed class ReproduceOptions
{
    public static readonly IReadOnlyList<string> Profiles = ["smoke", "default", "nightly"];

    public string Profile { get; set; } = "default";
    public string ClaimsFolder { get; set; } = "claims";
    public string BaselinesFolder { get; set; } = "baselines";
    public string OutputFolder { get; set; } = "results";
    /// <summary>Total intra-op threads (libtorch).</summary>
    public int Threads { get; set; } = 2;
    /// <summary>Runs trained side by side; each gets Threads / Workers threads.</summary>
    public int Workers { get; set; } = 1;
    /// <summary>libtorch's intra-op threads for one run (or one measured checkpoint): Threads / Workers, at least 1. A
    /// run's numbers can depend on it (a GEMM splits its sums by thread), so `run` and `measure` share this rule.</summary>
    public int ThreadsPerWorker => Math.Max(1, Threads / Workers);
    /// <summary>
    /// Where models are trained and measured: "cpu", "cuda" (the current CUDA device) or "cuda:N". CUDA needs a build
    /// with -p:TorchBackend=cuda and a GPU that torch.cuda.is_available() reports; otherwise Validate says so.
    /// </summary>
    public string Device { get; set; } = "cpu";
    public string FashionMnistFolder { get; set; } = Training.Data.FashionMnist.DefaultFolder;
    public string Cifar10Folder { get; set; } = "";
    /// <summary>Claim id filter (substring); empty = every claim.</summary>
    public string Filter { get; set; } = "";
    /// <summary>Significance level on the adjusted p-values.</summary>
    public double Alpha { get; set; } = 0.05;
    /// <summary>Keep a safetensors checkpoint of every run (so new measures need no retraining).</summary>
    public bool Checkpoints { get; set; } = true;
    /// <summary>
    /// Measure each seed-0 run's Hessian spectrum (SLQ) for the report's spectrum figures. No claim reads a spectrum:
    /// the claim tests, which evaluate claims against baselines and render no report, turn it off (about 60 s of CI's
    /// wall time on 2 cores); a store made without spectra gets them when `run` next completes it.
    /// </summary>
    public bool Spectra { get; set; } = true;

    /// <summary>Paths are taken relative to this folder (the repository root).</summary>
    public string Root { get; set; } = ".";

    public string Resolve(string path) => Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Root, path));
    /// <summary>
    /// The torch device <see cref="Device"/> names, for placing models (ModelSpec.Build, Checkpoint.Load); everything
    /// else follows the model. A method, not a property, so configuration binding never evaluates it.
    /// </summary>
    public TorchSharp.torch.Device TorchDevice() => Runtime.Devices.DeviceSetting.Parse(Device);

    public string StorePath => Path.Combine(Resolve(OutputFolder), $"{Profile}.sqlite");
    public string CheckpointFolder => Path.Combine(Resolve(OutputFolder), "checkpoints");

    public void Validate()
    {
        var errors = new List<string>();
        if (!Profiles.Contains(Profile)) errors.Add($"Profile: unknown profile '{Profile}'; valid: {string.Join(", ", Profiles)}");
        if (Threads < 1) errors.Add($"Threads: must be at least 1, not {Threads}");
        if (Workers < 1 || Workers > Threads) errors.Add($"Workers: must be between 1 and Threads ({Threads}), not {Workers}");
        if (Runtime.Devices.DeviceSetting.Problem(Device) is { } deviceProblem) errors.Add($"Device: {deviceProblem}");
        if (!(Alpha > 0 && Alpha < 1)) errors.Add($"Alpha: must lie in (0, 1), not {Alpha}");
        if (errors.Count > 0) throw new ArgumentException("Configuration: " + string.Join("; ", errors));
    }

    /// <summary>The configuration keys these options read (Root is set by the loader, not configured).</summary>
    public static IReadOnlyList<string> Keys { get; } = [.. typeof(ReproduceOptions).GetProperties()
        .Where(p => p.CanWrite && p.Name != nameof(Root)).Select(p => p.Name)];

    /// <summary>A key no option reads (a typo such as "Worker") is an error naming it and where it came from, never ignored.</summary>
    private static void RejectUnknownKeys(IConfigurationRoot config)
    {
        foreach (var provider in config.Providers)
            foreach (var key in provider.GetChildKeys([], null).Distinct(StringComparer.OrdinalIgnoreCase))
                if (!Keys.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    string source = provider switch
                    {
                        Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider j => j.Source.Path ?? "a JSON file",
                        Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider => $"the environment (REPRODUCE__{key})",
                        Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => "the command line",
                        _ => "an override",
                    };
                    throw new ArgumentException($"Configuration: unknown key '{key}' in {source}; valid keys: {string.Join(", ", Keys)}");
                }
    }

    /// <summary>Builds the options from the repository's appsettings files, the environment and overrides.</summary>
    public static ReproduceOptions Load(string root, IReadOnlyDictionary<string, string?>? overrides = null, string[]? commandLine = null)
    {
        IConfigurationBuilder Base() => new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Path.GetFullPath(root), "appsettings.json"), optional: true)
            .AddEnvironmentVariables("REPRODUCE__")
            .AddCommandLine(commandLine ?? [])
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?>());
        string profile;
        try { profile = Base().Build()["Profile"] ?? "default"; }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        { throw new ArgumentException($"Configuration: {Path.Combine(root, "appsettings.json")} cannot be read: {e.Message}", e); }
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Path.GetFullPath(root), "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(Path.GetFullPath(root), $"appsettings.{profile}.json"), optional: true)
            .AddEnvironmentVariables("REPRODUCE__")
            .AddCommandLine(commandLine ?? [])
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?>());
        var options = new ReproduceOptions();
        IConfigurationRoot built;
        try { built = config.Build(); }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        { throw new ArgumentException($"Configuration: appsettings file cannot be read: {e.Message}", e); }
        RejectUnknownKeys(built);
        try { built.Bind(options); }
        catch (InvalidOperationException e)
        {
            // Binding names the key in an inner exception's message; pass it on whole.
            throw new ArgumentException($"Configuration: {e.Message} {e.InnerException?.Message}".Trim(), e);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        { throw new ArgumentException($"Configuration: appsettings file cannot be read: {e.Message}", e); }
        options.Root = Path.GetFullPath(root);
        options.Validate();
        return options;
    }
}
