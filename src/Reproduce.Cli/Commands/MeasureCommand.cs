using System.CommandLine;
using System.Text.Json;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Metrics;
using Reproduce.Training.Checkpoints;

namespace Reproduce.Cli.Commands;

/// <summary>
/// reproduce measure: one safetensors checkpoint plus a data specification in, every per-run sharpness measure and
/// safety metric out as JSON (stdout). The interface for other tools, and for checking one model without a claim.
/// The measuring is <see cref="CheckpointMeasurement"/>'s; this verb parses and prints.
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
            // One checkpoint is one worker's work: the thread count a run of the same configuration measured with, so a
            // run's checkpoint measures to its stored bits.
            TorchSharp.torch.set_num_threads(options.ThreadsPerWorker);
            var request = new CheckpointMeasurementRequest
            {
                Data = parse.GetValue(data)!, TrainSize = parse.GetValue(trainSize), TestSize = parse.GetValue(testSize), MeasureSize = parse.GetValue(measureSize),
                Metrics = parse.GetValue(metricsOption) ?? [],
            };
            using var loaded = Checkpoint.Load(parse.GetValue(checkpoint)!, options.TorchDevice());
            var measured = CheckpointMeasurement.Measure(loaded, request, options, name => Console.Error.WriteLine($"measuring {name} ..."));
            var results = new Dictionary<string, object>();
            foreach (var m in measured) results[m.Name] = new { value = m.Value, details = JsonDocument.Parse(m.Details).RootElement };
            Console.WriteLine(JsonSerializer.Serialize(new { checkpoint = parse.GetValue(checkpoint), metadata = loaded.Metadata, threads = options.ThreadsPerWorker, data = request.Data, request.TrainSize, request.TestSize, request.MeasureSize, metrics = results }, BaselineStore.Json));
            return 0;
        });
        return command;
    }
}
