using System.CommandLine;
using System.Text.Json;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Metrics;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Regimes;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce measure: one safetensors checkpoint plus a data specification in, every per-run sharpness measure and
/// safety metric out as JSON (stdout). The interface for other tools, and for checking one model without a claim.
/// </summary>
internal static class MeasureCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A safetensors checkpoint written by reproduce (its metadata holds the model spec)." };
        var data = new Option<string>("--data") { Description = "fashion-mnist | cifar10.", DefaultValueFactory = _ => "fashion-mnist" };
        var trainSize = new Option<int>("--train-size") { Description = "Training samples (the data subset the model was trained on).", DefaultValueFactory = _ => 1000 };
        var testSize = new Option<int>("--test-size") { Description = "Test samples.", DefaultValueFactory = _ => 2000 };
        var measureSize = new Option<int>("--measure-size") { Description = "Training samples the sharpness measures use.", DefaultValueFactory = _ => 500 };
        var metricsOption = new Option<string[]>("--metric") { Description = "Metrics to compute (repeatable); default: every per-run metric.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("measure", "Measure one checkpoint: every sharpness measure and safety metric as JSON.") { checkpoint, data, trainSize, testSize, measureSize, metricsOption };
        CommonOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var options = CommonOptions.Load(parse);
            TorchSharp.torch.set_num_threads(options.Threads);
            using var loaded = Checkpoint.Load(parse.GetValue(checkpoint)!);
            string regimeName = loaded.Metadata.GetValueOrDefault("regime", "Base");
            var regime = RegimeRegistry.Contains(regimeName) ? RegimeRegistry.Get(regimeName) : RegimeRegistry.Get("Base");
            var settingProfile = new SettingProfile
            {
                Data = parse.GetValue(data)!, Model = loaded.Model.Spec, TrainSize = parse.GetValue(trainSize), TestSize = parse.GetValue(testSize),
                MeasureSize = parse.GetValue(measureSize), Epochs = 1, BatchSize = 1, LearningRate = 1, Seeds = 2,
                RobustnessSize = Math.Min(1000, parse.GetValue(testSize)),
            };
            if (!SettingLoader.DataSets.Contains(settingProfile.Data)) throw new ArgumentException($"--data: unknown data set '{settingProfile.Data}'; valid: {string.Join(", ", SettingLoader.DataSets)}.");
            if (settingProfile.MeasureSize > settingProfile.TrainSize) throw new ArgumentException($"--measure-size {settingProfile.MeasureSize} exceeds --train-size {settingProfile.TrainSize}.");
            var wanted = parse.GetValue(metricsOption) is { Length: > 0 } m ? m : MetricCatalog.All.Where(d => !d.PerGroup).Select(d => d.Name).ToArray();
            foreach (var name in wanted) MetricCatalog.Get(name);
            using var provider = new DataProvider(options);
            var setting = provider.For(settingProfile);
            using var computer = new MetricComputer(loaded.Model, settingProfile, regime, setting, seed: 0);
            var results = new Dictionary<string, object>();
            foreach (var name in wanted)
            {
                Console.Error.WriteLine($"measuring {name} ...");
                var (value, details) = computer.Compute(name);
                results[name] = new { value, details = JsonDocument.Parse(details).RootElement };
            }
            Console.WriteLine(JsonSerializer.Serialize(new { checkpoint = parse.GetValue(checkpoint), metadata = loaded.Metadata, data = settingProfile.Data, settingProfile.TrainSize, settingProfile.TestSize, settingProfile.MeasureSize, metrics = results }, BaselineStore.Json));
            return 0;
        });
        return command;
    }
}
