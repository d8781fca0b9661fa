using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// The safetensors format (Hugging Face), which the PyTorch world reads: an 8-byte little-endian header length N,
/// N bytes of UTF-8 JSON {"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}},
/// then the raw little-endian tensor bytes, offsets relative to the end of the header. Writes go to a temporary
/// file in the same folder and are moved into place, so a crash never leaves a half-written checkpoint. Reads
/// check every offset against the file size and each other, so truncation or corruption is an error naming the file.
/// </summary>
public static class Safetensors
{
    private static readonly Dictionary<ScalarType, string> names = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.Int64] = "I64",
        [ScalarType.Int32] = "I32", [ScalarType.Float16] = "F16", [ScalarType.BFloat16] = "BF16",
        [ScalarType.Byte] = "U8", [ScalarType.Int8] = "I8", [ScalarType.Bool] = "BOOL",
    };

    public static string DtypeName(ScalarType type) =>
        names.TryGetValue(type, out var name) ? name : throw new NotSupportedException($"safetensors: dtype {type} is not supported.");

    private static ScalarType Dtype(string name, string path, string tensor) =>
        names.FirstOrDefault(p => p.Value == name) is { Value: not null } pair ? pair.Key
            : throw new InvalidDataException($"{path}: tensor '{tensor}' has unknown dtype '{name}'.");

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject(metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))) };
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (name == "__metadata__") throw new ArgumentException("safetensors: a tensor cannot be named __metadata__.");
            using var t = tensor.detach().cpu().contiguous();
            var bytes = t.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = DtypeName(t.dtype),
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes.Length)),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        json.CopyTo(headerBytes, 0);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(headerBytes);
            foreach (var blob in blobs) stream.Write(blob);
        });
    }

    public sealed record Contents(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint not found: {path}", path);
        var raw = File.ReadAllBytes(path);
        if (raw.Length < 8) throw new InvalidDataException($"{path}: {raw.Length} bytes is too short for a safetensors header (truncated?).");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(raw);
        if (headerLength > (ulong)(raw.Length - 8)) throw new InvalidDataException($"{path}: header length {headerLength} exceeds the file ({raw.Length} bytes): truncated or not a safetensors file.");
        if (headerLength > int.MaxValue) throw new InvalidDataException($"{path}: header length {headerLength} is too large for a safetensors header.");
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(raw, 8, (int)headerLength); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"{path}: the safetensors header is not valid UTF-8 ({e.Message}).", e); }
        if (Serialisation.JsonTextCheck.Find(text) is { } problem)
            throw new InvalidDataException($"{path}: safetensors header {problem}{(problem.Kind == Serialisation.JsonTextCheck.Kind.DuplicateKey ? " (a tensor or metadata key may appear once)" : "")}.");
        JsonObject header;
        try { header = JsonNode.Parse(text)?.AsObject() ?? throw new JsonException("null header"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        { throw new InvalidDataException($"{path}: the safetensors header is not a JSON object ({e.Message}).", e); }
        long dataStart = 8 + (long)headerLength, dataLength = raw.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        switch (header["__metadata__"])
        {
            case null: break;
            case JsonObject meta:
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>()
                        : throw new InvalidDataException($"{path}: __metadata__ '{k}' is {Describe(v)}; safetensors metadata values must be strings.");
                break;
            case var other: throw new InvalidDataException($"{path}: __metadata__ is {Describe(other)}; it must be an object of strings.");
        }
        var tensors = new Dictionary<string, Tensor>();
        var ranges = new List<(long Begin, long End, string Name)>();
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__") continue;
                string Field(string f) => $"{path}: tensor '{name}', field '{f}'";
                var entry = node as JsonObject ?? throw new InvalidDataException($"{path}: tensor '{name}' is {Describe(node)}, not an object.");
                var dtype = Dtype(entry["dtype"] is JsonValue dv && dv.GetValueKind() == JsonValueKind.String ? dv.GetValue<string>()
                    : throw new InvalidDataException($"{Field("dtype")} is {Describe(entry["dtype"])}, not a string."), path, name);
                long Integer(JsonNode? n, string field) => n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out long l) ? l
                    : throw new InvalidDataException($"{Field(field)} holds {Describe(n)}, not an integer.");
                var shape = (entry["shape"] as JsonArray ?? throw new InvalidDataException($"{Field("shape")} is {Describe(entry["shape"])}, not an array.")).Select(n => Integer(n, "shape")).ToArray();
                var offsets = entry["data_offsets"] as JsonArray ?? throw new InvalidDataException($"{Field("data_offsets")} is {Describe(entry["data_offsets"])}, not an array.");
                if (offsets.Count != 2) throw new InvalidDataException($"{Field("data_offsets")} must hold [begin, end].");
                long begin = Integer(offsets[0], "data_offsets"), end = Integer(offsets[1], "data_offsets");
                if (shape.Any(s => s < 0)) throw new InvalidDataException($"{Field("shape")} has a negative size.");
                long count, size;
                try { count = shape.Aggregate(1L, (a, b) => checked(a * b)); size = checked(count * ElementSize(dtype)); }
                catch (OverflowException) { throw new InvalidDataException($"{Field("shape")} [{string.Join(", ", shape)}] is too large."); }
                if (begin < 0 || end < begin || end > dataLength)
                    throw new InvalidDataException($"{Field("data_offsets")} [{begin}, {end}] lies outside the {dataLength} data bytes (truncated file?).");
                if (end - begin != size)
                    throw new InvalidDataException($"{Field("data_offsets")} span {end - begin} bytes but shape [{string.Join(", ", shape)}] of {DtypeName(dtype)} needs {size}.");
                ranges.Add((begin, end, name));
                var bytes = new byte[size];
                Array.Copy(raw, dataStart + begin, bytes, 0, size);
                var t = empty(shape, dtype);
                bytes.CopyTo(t.bytes);
                tensors[name] = t.DetachFromDisposeScope();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message}).", e);
        }
        catch { foreach (var t in tensors.Values) t.Dispose(); throw; }
        var sorted = ranges.OrderBy(r => r.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
            {
                foreach (var t in tensors.Values) t.Dispose();
                throw new InvalidDataException($"{path}: tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap.");
            }
        // Non-finite weights are a broken model, not a measurement: refuse them by name rather than let NaN flow silently
        // through every measure (libtorch does not complain).
        foreach (var (name, t) in tensors)
            if (t.is_floating_point() && t.numel() > 0)
            {
                long bad;
                using (NewDisposeScope()) bad = t.isfinite().logical_not().sum().item<long>();
                if (bad > 0)
                {
                    foreach (var x in tensors.Values) x.Dispose();
                    throw new InvalidDataException($"{path}: tensor '{name}' holds {bad} non-finite value(s) (NaN or infinity): the model is broken (a diverged run?) and is not measured.");
                }
            }
        return new Contents(tensors, metadata);
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null", JsonObject => "an object", JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch { JsonValueKind.String => "a string", JsonValueKind.Number => $"the number {v.ToJsonString()}", _ => $"the value {v.ToJsonString()}" },
        _ => "not a value",
    };

    private static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        _ => 1,
    };
}
