using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Data;

/// <summary>
/// CIFAR-10's binary version (cifar-10-batches-bin): records of 1 label byte followed by 3072 pixel bytes
/// (1024 red, 1024 green, 1024 blue, row-major 32x32); files data_batch_1..5.bin (50,000 training images) and
/// test_batch.bin (10,000). Nothing is downloaded: the user gives the folder. Images are standardised per channel
/// with the usual training-set means and stds.
/// </summary>
public static class Cifar10
{
    public const int Side = 32, RecordBytes = 1 + 3 * Side * Side;
    public static readonly double[] Mean = [0.4914, 0.4822, 0.4465];
    public static readonly double[] Std = [0.2470, 0.2435, 0.2616];
    public static readonly IReadOnlyList<string> TrainFiles = [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")];
    public static readonly IReadOnlyList<string> TestFiles = ["test_batch.bin"];

    public static Dataset Load(bool train, string folder)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new ArgumentException("CIFAR-10: no folder given (set data.cifar10 to the cifar-10-batches-bin folder).");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"CIFAR-10 folder not found: {folder} (it should hold data_batch_1.bin ... test_batch.bin; download cifar-10-binary.tar.gz yourself).");
        var labels = new List<byte>();
        var pixels = new List<byte[]>();
        foreach (var name in train ? TrainFiles : TestFiles)
        {
            string path = Path.Combine(folder, name);
            if (!File.Exists(path)) throw new FileNotFoundException($"CIFAR-10 file missing: {path}", path);
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
                throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {RecordBytes}-byte records (truncated or not the binary version).");
            for (int offset = 0; offset < bytes.Length; offset += RecordBytes)
            {
                if (bytes[offset] > 9) throw new InvalidDataException($"{path}: record {offset / RecordBytes} has label {bytes[offset]}, outside 0..9.");
                labels.Add(bytes[offset]);
                pixels.Add(bytes.AsSpan(offset + 1, RecordBytes - 1).ToArray());
            }
        }
        int n = labels.Count;
        var flat = new byte[(long)n * (RecordBytes - 1)];
        for (int i = 0; i < n; i++) pixels[i].CopyTo(flat, (long)i * (RecordBytes - 1));
        using var scope = NewDisposeScope();
        var x = tensor(flat, new long[] { n, 3, Side, Side }).to(ScalarType.Float32).div_(255.0);
        var mean = tensor(Mean, ScalarType.Float32).reshape(1, 3, 1, 1);
        var std = tensor(Std, ScalarType.Float32).reshape(1, 3, 1, 1);
        x = ((x - mean) / std);
        var y = tensor(labels.ToArray(), new long[] { n }).to(ScalarType.Int64);
        return new Dataset(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), train ? "cifar10/train" : "cifar10/test");
    }
}
