using Reproduce.Claims;
using Reproduce.Claims.Runner;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.Claims.Runner;

/// <summary>A throw-away repository root with a tiny Fashion-MNIST setting and two claims sharing their Base runs.</summary>
public sealed class TinySuite : IDisposable
{
    public TinySuite(int seeds = 3)
    {
        Root = Repository.TempFolder("tiny-suite");
        Directory.CreateDirectory(System.IO.Path.Combine(Root, "claims", "settings"));
        File.WriteAllText(System.IO.Path.Combine(Root, "claims", "settings", "tiny.json"), $$"""
            { "name": "tiny", "regimes": ["Base", "WD", "SAM"], "profiles": { "smoke": {
              "data": "fashion-mnist", "model": { "kind": "mlp", "inputShape": [784], "classes": 10, "widths": [784, 16, 10] },
              "trainSize": 120, "testSize": 100, "measureSize": 60, "epochs": 2, "batchSize": 30, "learningRate": 0.05, "momentum": 0.9,
              "seeds": {{seeds}}, "samDraws": 3, "hessianProbes": 2, "robustnessSize": 50 } } }
            """);
        File.WriteAllText(System.IO.Path.Combine(Root, "claims", "t1-wd.json"), """
            { "id": "t1-wd", "statement": "WD raises the Fisher-Rao norm", "source": { "paper": "test", "location": "here" }, "kind": "comparison",
              "settings": ["tiny"], "reference": "Base", "regimes": ["WD"], "metrics": ["fisher_rao"], "direction": "higher",
              "test": "wilcoxon-signed-rank", "family": "paper-sharpness", "support": "moderate" }
            """);
        File.WriteAllText(System.IO.Path.Combine(Root, "claims", "t2-sam.json"), """
            { "id": "t2-sam", "statement": "SAM is more consistent", "source": { "paper": "test", "location": "here" }, "kind": "comparison",
              "settings": ["tiny"], "reference": "Base", "regimes": ["SAM"], "metrics": ["disagreement"], "direction": "lower",
              "test": "model-permutation", "family": "paper-safety", "support": "moderate" }
            """);
    }

    public string Root { get; }

    /// <param name="threads">Total libtorch threads; null keeps the configured default.</param>
    /// <param name="workers">Runs trained side by side; null keeps the configured default (1).</param>
    public ClaimSuite Load(string output = "results", string filter = "", int? threads = null, int? workers = null, bool? spectra = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Profile"] = "smoke", ["OutputFolder"] = output, ["Filter"] = filter, ["Checkpoints"] = "true",
        };
        if (threads is { } t) overrides["Threads"] = t.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (workers is { } w) overrides["Workers"] = w.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (spectra is { } sp) overrides["Spectra"] = sp ? "true" : "false";
        return ClaimSuite.Load(ReproduceOptions.Load(Root, overrides));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Root, recursive: true);
    }
}
