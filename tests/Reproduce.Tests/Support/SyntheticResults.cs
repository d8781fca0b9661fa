using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Regimes;

namespace Reproduce.Tests.Support;

/// <summary>
/// Tiny MLP settings written into a temporary folder for evaluator tests on synthetic stores: nothing is trained, so
/// only their names, regimes and seed counts matter — and their learning rates, which must differ between settings
/// because equal recipes share their run keys.
/// </summary>
public static class SyntheticSettings
{
    public const string Profile = "smoke";

    public static IReadOnlyDictionary<string, SettingSpec> Write(string root, string[] regimes, params (string Name, int Seeds, double LearningRate)[] settings)
    {
        string regimeList = string.Join(", ", regimes.Select(r => $"\"{r}\""));
        foreach (var (name, seeds, learningRate) in settings)
            File.WriteAllText(Path.Combine(root, $"{name}.json"), $$"""
                { "name": "{{name}}", "regimes": [{{regimeList}}], "profiles": { "{{Profile}}": {
                  "data": "fashion-mnist", "model": { "kind": "mlp", "inputShape": [784], "classes": 10, "widths": [784, 16, 10] },
                  "trainSize": 120, "testSize": 100, "measureSize": 60, "epochs": 2, "batchSize": 30,
                  "learningRate": {{learningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}},
                  "seeds": {{seeds}}, "robustnessSize": 50 } } }
                """);
        return SettingLoader.LoadFolder(root);
    }
}

/// <summary>
/// Runs and metrics written by hand under the evaluator's own run keys (<see cref="RunSpec.Key"/>): each run gets a
/// train accuracy (100% unless set, the premises' usual measure) and the values by seed (NaN: no run for that seed).
/// </summary>
public sealed class SyntheticResults(IReadOnlyDictionary<string, SettingSpec> settings)
{
    private readonly Dictionary<string, StoredRun> runs = [];
    private readonly List<StoredMetric> metrics = [];
    private readonly Dictionary<string, (float[] Probabilities, long[] Labels, int Classes)> predictions = [];

    /// <summary>The key the evaluator plans for (setting, regime, seed) at the synthetic profile.</summary>
    public string Key(string setting, string regime, int seed) =>
        new RunSpec(setting, SyntheticSettings.Profile, settings[setting].For(SyntheticSettings.Profile), RegimeRegistry.Get(regime), seed).Key;

    /// <summary>Stored test predictions of an added run (what the permutation test over models reads).</summary>
    public SyntheticResults AddPredictions(string setting, string regime, int seed, (float[] Probabilities, long[] Labels, int Classes) stored)
    {
        predictions[Key(setting, regime, seed)] = stored;
        return this;
    }

    /// <param name="details">The stored details JSON of seed s's value ("{}" when null).</param>
    public SyntheticResults Add(string setting, string regime, string metric, double[] perSeed, double trainAccuracy = 1.0, Func<int, string>? details = null)
    {
        for (int seed = 0; seed < perSeed.Length; seed++)
        {
            if (double.IsNaN(perSeed[seed])) continue;
            string key = Key(setting, regime, seed);
            if (!runs.ContainsKey(key))
            {
                runs[key] = new StoredRun(key, setting, SyntheticSettings.Profile, regime, seed, "{}", false, null, "[]", 0, "{}");
                metrics.Add(new StoredMetric(key, "train_accuracy", trainAccuracy, "{}", 0));
            }
            metrics.Add(new StoredMetric(key, metric, perSeed[seed], details?.Invoke(seed) ?? "{}", 0));
        }
        return this;
    }

    public ResultSnapshot Snapshot => new([.. runs.Values], metrics) { Predictions = predictions };
}
