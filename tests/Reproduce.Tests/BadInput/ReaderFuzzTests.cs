using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using NUnit.Framework;
using Reproduce.Claims.Baselines;
using Reproduce.Claims.Runner;
using Reproduce.Claims.Specs;
using Reproduce.Claims.Store;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Data;
using Reproduce.Training.Models;
using Reproduce.Tests.Support;

namespace Reproduce.Tests.BadInput;

/// <summary>
/// "No input crashes it": every reader of the suite is fed 10,000 seeded random cases (random bytes, truncations, byte
/// flips, and structured mutations of a valid file: JSON values of the wrong type, deleted and unknown fields, absurd
/// sizes, offsets and shapes, wrong SQLite column types). Each case either loads or fails with the suite's own error
/// naming the file (InvalidDataException for binary files, SpecException with a JSON path for claims, settings and
/// baselines, ArgumentException "Configuration: ..." for appsettings). Any other exception is a reader bug; a crash of
/// the test host is one too. Seeded loops rather than FsCheck properties: the cases are structured mutations whose
/// shrinking would not help, and the loop is several times faster. A failure prints the reader, the case number and
/// the mutation, and the seed (Seed + case number) replays it. Files go to /dev/shm when it exists (no disk I/O).
/// </summary>
[TestFixture, Category("BadInput"), NonParallelizable]
public class ReaderFuzzTests
{
    public const int Seed = 20240611;
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("REPRODUCE_FUZZ_CASES"), out var n) && n > 0 ? n : 10_000;

    /// <summary>
    /// REPRODUCE_FUZZ_TRACE=/tmp/fuzz: before each case, its description goes to that file and its input to that file + ".bin",
    /// so a case that kills the test host (a native abort) or hangs is left on disk.
    /// </summary>
    private static readonly string? Trace = Environment.GetEnvironmentVariable("REPRODUCE_FUZZ_TRACE") is { Length: > 0 } t ? t : null;

    private string folder = "";

    [OneTimeSetUp]
    public void CreateFolder()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        folder = Path.Combine(root, $"reader-fuzz-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
    }

    [OneTimeTearDown]
    public void DeleteFolder()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    // ---------------------------------------------------------------- the loop

    /// <summary>Runs the cases; <paramref name="judge"/> returns null for an acceptable exception, else what is wrong with it.</summary>
    private static void Fuzz(string reader, Func<Random, int, (string Mutation, string Path, Action Load)> make, Func<Exception, string, string?> judge)
    {
        var clock = Stopwatch.StartNew();
        var failures = new Dictionary<string, string>();
        int loaded = 0, rejected = 0;
        for (int i = 0; i < Cases; i++)
        {
            var random = new Random(Seed + i);
            var (mutation, path, load) = make(random, i);
            if (Trace is not null) { File.WriteAllText(Trace, $"{reader} case {i}: {mutation}"); if (File.Exists(path)) File.Copy(path, Trace + ".bin", true); }
            try { load(); loaded++; }
            catch (Exception e)
            {
                var wrong = judge(e, path);
                if (wrong is null) { rejected++; continue; }
                string kind = $"{e.GetType().Name}: {wrong}";
                string signature = e.GetType().Name + " " + (e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("Reproduce.")) ?? "").Trim();
                failures.TryAdd(signature, $"case {i} ({mutation}): {kind}\n      {e.Message.Split('\n')[0]}\n      {e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("Reproduce."))?.Trim()}");
            }
        }
        TestContext.Out.WriteLine($"{reader}: {Cases} cases, {loaded} loaded, {rejected} rejected with a named error, {Cases - loaded - rejected} bad, {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.That(failures, Is.Empty, $"{reader}: {failures.Count} distinct bug(s):\n  " + string.Join("\n  ", failures.Values));
    }

    private static string? NamesFile<T>(Exception e, string path) where T : Exception =>
        e is not T ? "not the reader's own error type"
        : !e.Message.Contains(path, StringComparison.Ordinal) ? $"the message does not name the file: {e.Message}" : null;

    private static string? SpecError(Exception e, string path) =>
        NamesFile<SpecException>(e, path) ?? (e.Message.Contains('$') ? null : $"no JSON path in: {e.Message}");

    // ---------------------------------------------------------------- byte-level mutations

    private static byte[] RandomBytes(Random r, int max)
    {
        var b = new byte[r.Next(max + 1)];
        r.NextBytes(b);
        return b;
    }

    private static byte[] Flip(Random r, byte[] valid, int from = 0)
    {
        var b = (byte[])valid.Clone();
        int flips = 1 + r.Next(8);
        for (int k = 0; k < flips && b.Length > from; k++)
        {
            int at = from + r.Next(b.Length - from);
            b[at] = r.Next(3) switch { 0 => (byte)(b[at] ^ (1 << r.Next(8))), 1 => (byte)r.Next(256), _ => (byte)(r.Next(2) == 0 ? 0 : 0xFF) };
        }
        return b;
    }

    private static byte[] Truncate(Random r, byte[] valid) => valid.AsSpan(0, r.Next(valid.Length)).ToArray();

    // ---------------------------------------------------------------- JSON mutations

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "2", "3", "4", "10", "28", "784", "1000", "0.5", "-0.5", "1.5", "0.05", "1E2", "1e-12", "1e300", "-1e300",
        "1e400", "-1e400", "1e-400", "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890", "1000000000",
    ];

    /// <summary>Raw JSON string literals, escapes included (a lone surrogate escape is valid JSON but not valid UTF-16).</summary>
    private static readonly string[] Strings =
    [
        "\"\"", "\" \"", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"\\ud800\"", "\"a\\udc00b\"", "\"\\u0000\"", "\"a\\nb\"",
        "\"../x\"", "\"F32\"", "\"F64\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"F8\"", "\"mlp\"", "\"lenet\"", "\"resnet\"", "\"relu\"",
        "\"$.x\"", "\"1\"", "\"true\"", "\"null\"", "\"{}\"", "\"[]\"", "\"" + new string('x', 3000) + "\"",
    ];

    private static string Quote(string s) => JsonSerializer.Serialize(s);

    private static string RandomJson(Random r, IReadOnlyList<string> pool, int depth = 0)
    {
        switch (r.Next(depth > 2 ? 6 : 8))
        {
            case 0: return "null";
            case 1: return r.Next(2) == 0 ? "true" : "false";
            case 2: return Numbers[r.Next(Numbers.Length)];
            case 3: return Strings[r.Next(Strings.Length)];
            case 4:
            case 5: return pool.Count > 0 ? Quote(pool[r.Next(pool.Count)]) : "\"x\"";
            case 6: return "[" + string.Join(",", Enumerable.Range(0, r.Next(4)).Select(_ => RandomJson(r, pool, depth + 1))) + "]";
            default:
                return "{" + string.Join(",", Enumerable.Range(0, r.Next(4)).Select(k => $"{RandomKey(r, pool)}:{RandomJson(r, pool, depth + 1)}").Distinct()) + "}";
        }
    }

    private static string RandomKey(Random r, IReadOnlyList<string> pool) => r.Next(6) switch
    {
        0 => "\"\\ud800\"", 1 => "\"\"", 2 => "\"__metadata__\"",
        _ => pool.Count > 0 ? Quote(pool[r.Next(pool.Count)] + (r.Next(3) == 0 ? "x" : "")) : "\"k\"",
    };

    /// <summary>Every string (keys and values) in a document: the pool random values are drawn from, so mutations go deep.</summary>
    private static List<string> StringsOf(JsonNode? node, List<string>? into = null)
    {
        into ??= [];
        switch (node)
        {
            case JsonObject o: foreach (var (k, v) in o) { into.Add(k); StringsOf(v, into); } break;
            case JsonArray a: foreach (var v in a) StringsOf(v, into); break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String: into.Add(v.GetValue<string>()); break;
        }
        return into;
    }

    private static void Slots(JsonNode node, List<(JsonNode Parent, string? Key, int Index)> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList()) { into.Add((o, k, -1)); if (v is not null) Slots(v, into); }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++) { into.Add((a, null, i)); if (a[i] is { } v) Slots(v, into); }
                break;
        }
    }

    /// <summary>1-3 structural edits of a valid document: a value replaced by random JSON of any type, a field deleted, an unknown field added, a key duplicated.</summary>
    private static string MutateStructure(Random r, string validJson, IReadOnlyList<string> pool)
    {
        var root = JsonNode.Parse(validJson)!;
        var raw = new List<string>();
        JsonNode Placeholder(string json) { raw.Add(json); return JsonValue.Create($"@@FUZZ{raw.Count - 1}@@")!; }
        int edits = 1 + r.Next(3);
        bool duplicate = false;
        for (int e = 0; e < edits; e++)
        {
            var slots = new List<(JsonNode Parent, string? Key, int Index)>();
            Slots(root, slots);
            int op = r.Next(10);
            if (slots.Count == 0 || op == 9) { if (r.Next(8) == 0) return RandomJson(r, pool); continue; }
            var (parent, key, index) = slots[r.Next(slots.Count)];
            switch (op)
            {
                case <= 4: // replace with random JSON of a random type
                    if (key is not null) parent[key] = Placeholder(RandomJson(r, pool)); else parent[index] = Placeholder(RandomJson(r, pool));
                    break;
                case 5: case 6: // delete
                    if (key is not null) ((JsonObject)parent).Remove(key); else ((JsonArray)parent).RemoveAt(index);
                    break;
                case 7: // add an unknown field or element
                    if (parent is JsonObject o) { string k = $"@@KEY{raw.Count}@@"; raw.Add(RandomKey(r, pool)); if (!o.ContainsKey(k)) o[k] = Placeholder(RandomJson(r, pool)); }
                    else ((JsonArray)parent).Add(Placeholder(RandomJson(r, pool)));
                    break;
                default:
                    duplicate = true;
                    break;
            }
        }
        string text = root.ToJsonString();
        for (int k = raw.Count - 1; k >= 0; k--)
            text = text.Replace($"\"@@FUZZ{k}@@\"", raw[k]).Replace($"\"@@KEY{k}@@\"", raw[k]);
        if (duplicate)
        {
            // Repeat the first key of some object: {"a":1,...} -> {"a":1,"a":1,...}
            var starts = Enumerable.Range(0, text.Length).Where(i => text[i] == '{' && i + 1 < text.Length && text[i + 1] == '"').ToList();
            if (starts.Count > 0)
            {
                int s = starts[r.Next(starts.Count)] + 1;
                int colon = text.IndexOf("\":", s, StringComparison.Ordinal);
                if (colon > 0) text = text.Insert(s, text[s..(colon + 2)] + "0,");
            }
        }
        return text;
    }

    /// <summary>A JSON file case: random bytes, truncation, byte flips, or structural edits.</summary>
    private static (string Mutation, byte[] Bytes) JsonCase(Random r, string valid, IReadOnlyList<string> pool)
    {
        var bytes = Encoding.UTF8.GetBytes(valid);
        return r.Next(10) switch
        {
            0 => ("random bytes", r.Next(2) == 0 ? RandomBytes(r, 200) : Encoding.UTF8.GetBytes(RandomJson(r, pool))),
            1 => ("truncated", Truncate(r, bytes)),
            2 => ("byte flips", Flip(r, bytes)),
            _ => ("structure", Encoding.UTF8.GetBytes(MutateStructure(r, valid, pool))),
        };
    }

    // ---------------------------------------------------------------- JSON readers

    private static readonly Lazy<IReadOnlyDictionary<string, SettingSpec>> RepositorySettings = new(() => SettingLoader.LoadFolder(Repository.Path("claims", "settings")));

    private void FuzzJsonFiles(string reader, IReadOnlyList<string> validFiles, Func<string, string> target, Action<string> load, Func<Exception, string, string?> judge, Func<string, string>? prepare = null)
    {
        var valid = validFiles.Select(f => (Name: Path.GetFileName(f), Text: prepare?.Invoke(File.ReadAllText(f)) ?? File.ReadAllText(f))).ToList();
        var pools = valid.Select(v => (IReadOnlyList<string>)StringsOf(JsonNode.Parse(v.Text)).Distinct().ToList()).ToList();
        foreach (var (name, text) in valid)
        {
            string path = target(name);
            File.WriteAllText(path, text);
            Assert.DoesNotThrow(() => load(path), $"{reader}: the unmutated {name} must load");
        }
        Fuzz(reader, (r, i) =>
        {
            int k = r.Next(valid.Count);
            var (mutation, bytes) = JsonCase(r, valid[k].Text, pools[k]);
            string path = target(valid[k].Name);
            File.WriteAllBytes(path, bytes);
            return ($"{valid[k].Name}, {mutation}", path, () => load(path));
        }, judge);
    }

    [Test]
    public void ClaimFiles()
    {
        var files = Directory.GetFiles(Repository.Path("claims"), "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        FuzzJsonFiles("claims", files, name => Path.Combine(folder, name), path => ClaimLoader.Load(path, RepositorySettings.Value), SpecError);
    }

    [Test]
    public void SettingFiles()
    {
        // The small models: every load builds each profile's model once (the MLP and CNN settings would dominate the time).
        var files = new[] { "circles-loose.json", "circles-tight.json", "fn-sphere.json", "fn-rastrigin.json", "mlp.json" }.Select(f => Repository.Path("claims", "settings", f)).ToList();
        FuzzJsonFiles("settings", files, name => Path.Combine(folder, name), path => SettingLoader.Load(path), SpecError);
    }

    [Test]
    public void BaselineFiles()
    {
        var corpus = Repository.Path("tests", "Reproduce.Tests", "BadInput", "Corpus", "baselines", "baseline-bad-verdict.json");
        FuzzJsonFiles("baselines", [corpus], name => Path.Combine(folder, name), path => BaselineStore.ReadFile(path), SpecError,
            prepare: text => text.Replace("\"verdict\": \"maybe\"", "\"verdict\": \"inconclusive\"", StringComparison.Ordinal));
    }

    [Test]
    public void ConfigurationFiles()
    {
        string config = Path.Combine(folder, "config");
        Directory.CreateDirectory(config);
        FuzzJsonFiles("configuration", [Repository.Path("appsettings.json")], _ => Path.Combine(config, "appsettings.json"),
            path => ReproduceOptions.Load(Path.GetDirectoryName(path)!),
            (e, _) => e is ArgumentException && e.GetType() == typeof(ArgumentException) && e.Message.StartsWith("Configuration:", StringComparison.Ordinal) ? null : "not an ArgumentException starting 'Configuration:'");
    }

    // ---------------------------------------------------------------- safetensors

    private static readonly string[] Dtypes = ["F32", "F64", "F16", "BF16", "I64", "I32", "U8", "I8", "BOOL", "F8_E4M3", "f32", "", "U64"];

    private static byte[] WithHeader(string json, ReadOnlySpan<byte> data, ulong? length = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, length ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file.AsSpan(8 + header.Length));
        return file;
    }

    private static string MutateSpec(Random r, string spec, IReadOnlyList<string> pool) => r.Next(6) switch
    {
        0 => RandomJson(r, pool),                                              // valid JSON of the wrong shape
        1 => spec[..r.Next(spec.Length)],                                      // junk: truncated JSON
        2 => spec.Replace("[4,3,2]", $"[4,{Numbers[r.Next(Numbers.Length)]},2]", StringComparison.Ordinal),
        3 => spec.Replace("\"widths\":[4,3,2]", $"\"widths\":[{string.Join(",", Enumerable.Range(0, r.Next(5)).Select(_ => r.Next(3) == 0 ? "2147483647" : r.Next(-2, 6).ToString()))}]", StringComparison.Ordinal),
        _ => MutateStructure(r, spec, pool),
    };

    [Test]
    public void SafetensorsCheckpoints()
    {
        string validPath = Path.Combine(folder, "valid.safetensors");
        using (var model = ModelSpec.ForMlp([4, 3, 2]).Build(0)) Checkpoint.Save(validPath, model, new Dictionary<string, string> { ["seed"] = "0" });
        var valid = File.ReadAllBytes(validPath);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        string header = Encoding.UTF8.GetString(valid, 8, headerLength).TrimEnd();
        var data = valid.AsSpan(8 + headerLength).ToArray();
        var headerNode = JsonNode.Parse(header)!.AsObject();
        string spec = headerNode["__metadata__"]![Checkpoint.SpecKey]!.GetValue<string>();
        var pool = StringsOf(headerNode).Concat(StringsOf(JsonNode.Parse(spec))).Concat(Dtypes).Distinct().ToList();
        var tensorNames = headerNode.Select(p => p.Key).Where(k => k != "__metadata__").ToList();
        string path = Path.Combine(folder, "case.safetensors");
        using (Checkpoint.Load(validPath)) { }

        Fuzz("safetensors (Safetensors.Read and Checkpoint.Load)", (r, i) =>
        {
            string mutation;
            byte[] bytes;
            switch (r.Next(12))
            {
                case 0:
                    mutation = "random bytes";
                    bytes = RandomBytes(r, 120);
                    if (bytes.Length >= 8 && r.Next(2) == 0) BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)r.Next(bytes.Length));
                    break;
                case 1:
                {
                    ulong[] lengths = [0, 1, 7, (ulong)headerLength - 1, (ulong)headerLength + 1, (ulong)(valid.Length - 8), (ulong)(valid.Length - 7),
                        int.MaxValue, (ulong)int.MaxValue + 1, ulong.MaxValue, ulong.MaxValue - 7, 1UL << 63, (ulong)r.NextInt64()];
                    ulong length = lengths[r.Next(lengths.Length)];
                    mutation = $"header length {length}";
                    bytes = (byte[])valid.Clone();
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
                    break;
                }
                case 2: mutation = "truncated"; bytes = Truncate(r, valid); break;
                case 3: mutation = "byte flips"; bytes = Flip(r, valid); break;
                case 4: mutation = "byte flips in the data"; bytes = Flip(r, valid, 8 + headerLength); break;
                case 5: case 6:
                    mutation = "header structure";
                    bytes = WithHeader(MutateStructure(r, header, pool), data);
                    break;
                case 7:
                {
                    var h = JsonNode.Parse(header)!.AsObject();
                    string name = tensorNames[r.Next(tensorNames.Count)];
                    var other = h[tensorNames[r.Next(tensorNames.Count)]]!["data_offsets"]!.AsArray();
                    long[] interesting = [-1, 0, 1, long.MinValue, long.MaxValue, data.Length, data.Length + 1, data.Length - 1, (long)int.MaxValue + 1,
                        other[0]!.GetValue<long>(), other[1]!.GetValue<long>(), other[1]!.GetValue<long>() - 4];
                    long begin = interesting[r.Next(interesting.Length)], end = r.Next(3) == 0 ? begin + 4 : interesting[r.Next(interesting.Length)];
                    h[name]!["data_offsets"] = new JsonArray(begin, end);
                    mutation = $"offsets of {name} [{begin}, {end}]";
                    bytes = WithHeader(h.ToJsonString(), data);
                    break;
                }
                case 8:
                {
                    var h = JsonNode.Parse(header)!.AsObject();
                    string name = tensorNames[r.Next(tensorNames.Count)];
                    string shape = "[" + string.Join(",", Enumerable.Range(0, r.Next(r.Next(2) == 0 ? 4 : 80)).Select(_ => r.Next(4) switch
                    {
                        0 => Numbers[r.Next(Numbers.Length)], 1 => "0", 2 => r.Next(-1, 5).ToString(), _ => "4294967296",
                    })) + "]";
                    mutation = $"shape of {name} {(shape.Length > 60 ? shape[..60] + "..." : shape)}";
                    h[name]!["shape"] = "@@SHAPE@@";
                    bytes = WithHeader(h.ToJsonString().Replace("\"@@SHAPE@@\"", shape), data);
                    break;
                }
                case 9:
                {
                    var h = JsonNode.Parse(header)!.AsObject();
                    string name = tensorNames[r.Next(tensorNames.Count)], dtype = Dtypes[r.Next(Dtypes.Length)];
                    h[name]!["dtype"] = dtype;
                    mutation = $"dtype of {name} '{dtype}'";
                    bytes = WithHeader(h.ToJsonString(), data);
                    break;
                }
                default:
                {
                    var h = JsonNode.Parse(header)!.AsObject();
                    string newSpec = MutateSpec(r, spec, pool);
                    h["__metadata__"]![Checkpoint.SpecKey] = "@@SPEC@@";
                    mutation = $"model_spec {(newSpec.Length > 80 ? newSpec[..80] + "..." : newSpec)}";
                    // The spec is JSON inside a JSON string: escape it as a string (it may hold raw escapes such as \ud800).
                    string escaped = "\"" + newSpec.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
                    bytes = WithHeader(h.ToJsonString().Replace("\"@@SPEC@@\"", escaped), data);
                    break;
                }
            }
            File.WriteAllBytes(path, bytes);
            return (mutation, path, () =>
            {
                var contents = Safetensors.Read(path);
                foreach (var t in contents.Tensors.Values) t.Dispose();
                Checkpoint.Load(path).Dispose();
            });
        }, NamesFile<InvalidDataException>);
    }

    // ---------------------------------------------------------------- IDX / Fashion-MNIST

    private static byte[] Idx(int[] shape, byte[] data, int type = 8, int? dims = null)
    {
        var b = new byte[4 + 4 * shape.Length + data.Length];
        b[2] = (byte)type; b[3] = (byte)(dims ?? shape.Length);
        for (int d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * d), shape[d]);
        data.CopyTo(b, 4 + 4 * shape.Length);
        return b;
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var m = new MemoryStream();
        using (var g = new GZipStream(m, CompressionLevel.Fastest)) g.Write(raw);
        return m.ToArray();
    }

    private static byte[] MutateIdx(Random r, byte[] valid, int dims, out string mutation)
    {
        int[] sizes = [0, 1, 2, 3, 27, 28, 29, -1, int.MinValue, int.MaxValue, 1 << 16, 1 << 30, 784];
        switch (r.Next(8))
        {
            case 0: mutation = "random bytes"; return RandomBytes(r, 64);
            case 1: mutation = "truncated"; return Truncate(r, valid);
            case 2: mutation = "byte flips"; return Flip(r, valid);
            case 3:
            {
                var b = (byte[])valid.Clone();
                int at = r.Next(4);
                b[at] = (byte)(r.Next(2) == 0 ? r.Next(256) : new[] { 0, 8, 9, 0x0D, 1, 3 }[r.Next(6)]);
                mutation = $"magic byte {at} = {b[at]:x2}";
                return b;
            }
            case 4: case 5:
            {
                var b = (byte[])valid.Clone();
                int d = r.Next(dims);
                int size = sizes[r.Next(sizes.Length)];
                BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * d), size);
                mutation = $"dimension {d} = {size}";
                return b;
            }
            case 6:
            {
                int extra = r.Next(-20, 20);
                mutation = $"{extra} bytes of data added";
                return extra < 0 ? valid.AsSpan(0, Math.Max(0, valid.Length + extra)).ToArray() : [.. valid, .. RandomBytes(r, extra)];
            }
            default:
            {
                var b = (byte[])valid.Clone();
                int at = 4 + 4 * dims + r.Next(b.Length - 4 - 4 * dims);
                b[at] = (byte)r.Next(256);
                mutation = $"data byte {at} = {b[at]}";
                return b;
            }
        }
    }

    [Test]
    public void IdxFilesAndFashionMnist()
    {
        string data = Path.Combine(folder, "fashion");
        Directory.CreateDirectory(data);
        const int n = 2;
        var images = Idx([n, 28, 28], [.. Enumerable.Range(0, n * 784).Select(i => (byte)(i % 251))]);
        var labels = Idx([n], [3, 9]);
        string imagesGz = Path.Combine(data, "train-images-idx3-ubyte.gz"), labelsGz = Path.Combine(data, "train-labels-idx1-ubyte.gz");
        string plain = Path.Combine(folder, "case-idx3-ubyte");
        File.WriteAllBytes(imagesGz, Gzip(images));
        File.WriteAllBytes(labelsGz, Gzip(labels));
        FashionMnist.Load(true, data).Dispose();

        Fuzz("IDX (IdxFile.Read and FashionMnist.Load)", (r, i) =>
        {
            bool mutateImages = r.Next(2) == 0;
            var valid = mutateImages ? images : labels;
            string target = mutateImages ? imagesGz : labelsGz;
            var raw = MutateIdx(r, valid, mutateImages ? 3 : 1, out var mutation);
            byte[] gz;
            switch (r.Next(6))
            {
                case 0: mutation += ", gzip flipped"; gz = Flip(r, Gzip(raw)); break;
                case 1: mutation += ", gzip truncated"; gz = Truncate(r, Gzip(raw)); break;
                case 2: mutation += ", not gzipped"; gz = raw; break;
                default: gz = Gzip(raw); break;
            }
            File.WriteAllBytes(plain, raw);
            File.WriteAllBytes(target, gz);
            File.WriteAllBytes(mutateImages ? labelsGz : imagesGz, Gzip(mutateImages ? labels : images));
            return ($"{(mutateImages ? "images" : "labels")}: {mutation}", target, () =>
            {
                try { IdxFile.Read(plain, mutateImages ? 3 : 1); }
                catch (InvalidDataException e) when (e.Message.Contains(plain, StringComparison.Ordinal)) { }
                FashionMnist.Load(true, data).Dispose();
            });
        }, NamesFile<InvalidDataException>);
    }

    // ---------------------------------------------------------------- CIFAR-10

    [Test]
    public void Cifar10Batches()
    {
        string data = Path.Combine(folder, "cifar");
        Directory.CreateDirectory(data);
        var record = new byte[Cifar10.RecordBytes];
        for (int k = 1; k < record.Length; k++) record[k] = (byte)(k % 256);
        byte[] Batch(int records) { var b = new byte[records * Cifar10.RecordBytes]; for (int i = 0; i < records; i++) { record.CopyTo(b, i * Cifar10.RecordBytes); b[i * Cifar10.RecordBytes] = (byte)(i % 10); } return b; }
        var valid = Batch(2);
        foreach (var name in Cifar10.TrainFiles.Concat(Cifar10.TestFiles)) File.WriteAllBytes(Path.Combine(data, name), valid);
        Cifar10.Load(false, data).Dispose();

        Fuzz("CIFAR-10 (Cifar10.Load)", (r, i) =>
        {
            bool train = r.Next(10) == 0;
            var names = train ? Cifar10.TrainFiles : Cifar10.TestFiles;
            string target = Path.Combine(data, names[r.Next(names.Count)]);
            string mutation;
            byte[] bytes;
            switch (r.Next(6))
            {
                case 0: mutation = "random bytes"; bytes = r.Next(2) == 0 ? RandomBytes(r, 100) : RandomBytes(r, 3 * Cifar10.RecordBytes); break;
                case 1: mutation = "truncated"; bytes = Truncate(r, valid); break;
                case 2: mutation = "byte flips"; bytes = Flip(r, valid); break;
                case 3: { int extra = r.Next(1, 10); mutation = $"{extra} bytes added"; bytes = [.. valid, .. RandomBytes(r, extra)]; break; }
                case 4: { bytes = (byte[])valid.Clone(); int rec = r.Next(2); bytes[rec * Cifar10.RecordBytes] = (byte)r.Next(256); mutation = $"label of record {rec} = {bytes[rec * Cifar10.RecordBytes]}"; break; }
                default: { int records = r.Next(0, 4); mutation = $"{records} records"; bytes = Batch(records); break; }
            }
            File.WriteAllBytes(target, bytes);
            return ($"{Path.GetFileName(target)}: {mutation}", target, () =>
            {
                try { Cifar10.Load(train, data).Dispose(); }
                finally { File.WriteAllBytes(target, valid); }
            });
        }, NamesFile<InvalidDataException>);
    }

    // ---------------------------------------------------------------- SQLite result store

    private static readonly (string Table, string[] Columns, string[] Types)[] Schema =
    [
        ("meta", ["key", "value"], ["TEXT", "TEXT"]),
        ("runs", ["key", "setting", "profile", "regime", "seed", "spec_json", "diverged", "diverged_at", "final_train_loss", "final_train_accuracy", "epochs_json", "seconds", "provenance_json", "created"],
            ["TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "TEXT", "INTEGER", "INTEGER", "REAL", "REAL", "TEXT", "REAL", "TEXT", "TEXT"]),
        ("metrics", ["run_key", "metric", "value", "details_json", "seconds"], ["TEXT", "TEXT", "REAL", "TEXT", "REAL"]),
        ("predictions", ["run_key", "rows", "classes", "probabilities", "labels"], ["TEXT", "INTEGER", "INTEGER", "BLOB", "BLOB"]),
        ("spectra", ["run_key", "nodes_json", "weights_json", "details_json", "seconds"], ["TEXT", "TEXT", "TEXT", "TEXT", "REAL"]),
    ];

    private static object ValidValue(string table, string column, string type, int row) => (table, column) switch
    {
        ("meta", "key") => "schema_version", ("meta", "value") => "1",
        (_, "key") or (_, "run_key") => $"run{row}",
        ("predictions", "rows") => 2, ("predictions", "classes") => 3,
        ("predictions", "probabilities") => new byte[24], ("predictions", "labels") => new byte[16],
        ("spectra", "nodes_json") => "[[-0.5, 2.0], [0.25]]", ("spectra", "weights_json") => "[[0.4, 0.6], [1.0]]",
        _ => type switch { "TEXT" => "{}", "INTEGER" => (long)row, "REAL" => 0.5 + row, _ => new byte[1] },
    };

    private static object RandomValue(Random r) => r.Next(12) switch
    {
        0 => DBNull.Value, 1 => 0L, 2 => -1L, 3 => long.MaxValue, 4 => 1L << 40, 5 => 1.5, 6 => -1e308,
        7 => "abc", 8 => "1.5", 9 => "", 10 => 65536L, _ => RandomBytes(r, 40),
    };

    /// <summary>A store whose tables may lack columns or hold values of the wrong SQLite type (the declared types of a foreign file mean nothing).</summary>
    private static byte[] VariantStore(Random r, string path)
    {
        foreach (var f in new[] { path, path + "-wal", path + "-shm", path + "-journal" }) File.Delete(f);
        using (var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            c.Open();
            using var tx = c.BeginTransaction();
            foreach (var (table, columns, types) in Schema)
            {
                if (r.Next(12) == 0) continue;                                          // missing table (the store creates it)
                var keep = columns.Select((col, k) => (col, type: types[k])).Where(_ => r.Next(25) != 0).ToList();
                if (keep.Count == 0) continue;
                using (var create = c.CreateCommand())
                {
                    create.Transaction = tx;
                    create.CommandText = $"CREATE TABLE {table} ({string.Join(", ", keep.Select(k => $"{k.col} {(r.Next(4) == 0 ? new[] { "", "TEXT", "BLOB", "REAL", "INTEGER" }[r.Next(5)] : k.type)}"))})";
                    create.ExecuteNonQuery();
                }
                for (int row = 0; row < (table == "meta" ? 1 : r.Next(1, 3)); row++)
                {
                    using var insert = c.CreateCommand();
                    insert.Transaction = tx;
                    insert.CommandText = $"INSERT INTO {table} ({string.Join(", ", keep.Select(k => k.col))}) VALUES ({string.Join(", ", keep.Select((_, k) => $"$p{k}"))})";
                    for (int k = 0; k < keep.Count; k++)
                        insert.Parameters.AddWithValue($"$p{k}", r.Next(6) == 0 ? RandomValue(r) : ValidValue(table, keep[k].col, keep[k].type, row));
                    insert.ExecuteNonQuery();
                }
            }
            tx.Commit();
        }
        return File.ReadAllBytes(path);
    }

    [Test]
    public void ResultStores()
    {
        string validPath = Path.Combine(folder, "valid.sqlite");
        using (var store = new ResultStore(validPath))
        {
            store.SaveRun(new StoredRun("run0", "mlp", "smoke", "Base", 0, "{}", false, null, "[]", 1.5, "{}"), [0.1f, 0.9f, 0.3f, 0.7f], [1, 0], 2);
            store.SaveRun(new StoredRun("run1", "mlp", "smoke", "WD", 1, "{}", true, 7, "[]", 2.5, "{}"), null, null, 0);
            store.SaveSpectrum(new StoredSpectrum("run0", [[-0.5, 2.0], [0.25]], [[0.4, 0.6], [1.0]], "{}", 0.2));
            store.SaveMetric(new StoredMetric("run0", "fisher_rao", 0.25, "{}", 0.1));
            store.SaveMetric(new StoredMetric("run1", "fisher_rao", 0.5, "{}", 0.1));
        }
        var valid = File.ReadAllBytes(validPath);
        var clock = Stopwatch.StartNew();
        var variantRandom = new Random(Seed);
        var variants = Enumerable.Range(0, 300).Select(_ => VariantStore(variantRandom, Path.Combine(folder, "variant.sqlite"))).ToList();
        TestContext.Out.WriteLine($"300 variant stores in {clock.Elapsed.TotalSeconds:0.0} s");
        string path = Path.Combine(folder, "case.sqlite");

        Fuzz("result store (ResultStore: open, AllRuns, AllMetrics, Metrics, Predictions, AllSpectra, Spectrum)", (r, i) =>
        {
            foreach (var f in new[] { path + "-wal", path + "-shm", path + "-journal" }) File.Delete(f);
            string mutation;
            byte[] bytes;
            switch (r.Next(8))
            {
                case 0:
                    mutation = "random bytes";
                    bytes = RandomBytes(r, 300);
                    if (r.Next(2) == 0 && bytes.Length >= 16) Encoding.ASCII.GetBytes("SQLite format 3\0").CopyTo(bytes, 0);
                    break;
                case 1: mutation = "truncated"; bytes = r.Next(2) == 0 ? Truncate(r, valid) : valid.AsSpan(0, 4096 * r.Next(valid.Length / 4096)).ToArray(); break;
                case 2: case 3: mutation = "byte flips"; bytes = Flip(r, valid, r.Next(2) == 0 ? 100 : 0); break;
                default:
                {
                    int v = r.Next(variants.Count);
                    mutation = $"variant {v}";
                    bytes = variants[v];
                    if (r.Next(4) == 0) { mutation += ", byte flips"; bytes = Flip(r, bytes, 100); }
                    break;
                }
            }
            File.WriteAllBytes(path, bytes);
            return (mutation, path, () =>
            {
                using var store = new ResultStore(path);
                var runs = store.AllRuns();
                store.AllMetrics();
                store.AllSpectra();
                foreach (var key in runs.Select(x => x.Key).Append("run0").Distinct())
                {
                    store.GetRun(key);
                    store.Metrics(key);
                    store.Predictions(key);
                    store.Spectrum(key);
                }
            });
        }, NamesFile<InvalidDataException>);
    }

    // ---------------------------------------------------------------- regressions: the bugs the fuzzing found

    [TestCase("claims"), TestCase("settings"), TestCase("baselines")]
    public void ALoneSurrogateEscapeIsASpecErrorWithItsPath(string kind)
    {
        string path = Path.Combine(folder, "lone-surrogate.json");
        File.WriteAllText(path, "{\"id\": \"a\\ud800\", \"x\\udc00\": 1}");
        Action load = kind switch
        {
            "claims" => () => ClaimLoader.Load(path, RepositorySettings.Value),
            "settings" => () => SettingLoader.Load(path),
            _ => () => BaselineStore.ReadFile(path),
        };
        var e = Assert.Throws<SpecException>(() => load())!;   // was InvalidOperationException ("Cannot read invalid UTF-16 JSON text as string")
        Assert.That(e.Message, Does.Contain(path).And.Contain("$.id").And.Contain("not valid UTF-16"));
    }

    [Test]
    public void ALoneSurrogateKeyInASafetensorsHeaderIsNamed()
    {
        string path = Path.Combine(folder, "lone-surrogate.safetensors");
        File.WriteAllBytes(path, WithHeader("{\"__metadata__\": {\"\\ud800\": \"x\"}}", []));
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("$.__metadata__.\\ud800"));
    }

    [Test]
    public void AnIdxShapeWhoseSizeOverflowsIsRefused()
    {
        // [2^30, 2^30, 16] elements: 2^64, which wrapped to 0 and "matched" an empty data section.
        string path = Path.Combine(folder, "overflow-idx3-ubyte");
        File.WriteAllBytes(path, Idx([1 << 30, 1 << 30, 16], []));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 3))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("more elements"));
    }

    private string Store(string sql)
    {
        string path = Path.Combine(folder, $"store-{Guid.NewGuid():N}.sqlite");
        using (var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
        return path;
    }

    private const string StoreSchema = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE runs (key TEXT PRIMARY KEY, setting TEXT NOT NULL, profile TEXT NOT NULL, regime TEXT NOT NULL, seed INTEGER NOT NULL,
            spec_json TEXT NOT NULL, diverged INTEGER NOT NULL, diverged_at INTEGER, final_train_loss REAL, final_train_accuracy REAL,
            epochs_json TEXT NOT NULL, seconds REAL NOT NULL, provenance_json TEXT, created TEXT NOT NULL);
        CREATE TABLE metrics (run_key TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, details_json TEXT NOT NULL, seconds REAL NOT NULL);
        CREATE TABLE predictions (run_key TEXT PRIMARY KEY, rows INTEGER NOT NULL, classes INTEGER NOT NULL, probabilities BLOB NOT NULL, labels BLOB NOT NULL);
        """;

    [TestCase("INSERT INTO metrics VALUES ('r', 'fisher_rao', 'abc', '{}', 1.0)", "metrics.value of run r, metric fisher_rao holds the text 'abc'")] // was read as 0.0
    [TestCase("INSERT INTO runs VALUES ('r', 'mlp', 'smoke', 'Base', 1099511627776, '{}', 0, NULL, 0.5, 0.5, '[]', 1.0, '{}', 'now')", "runs.seed of run r holds the integer 1099511627776")] // was OverflowException
    [TestCase("INSERT INTO runs VALUES ('r', 'mlp', 'smoke', 'Base', 1, '{}', 0, NULL, 0.5, 0.5, '[]', 1.0, NULL, 'now')", "runs.provenance_json of run r holds NULL")]
    [TestCase("INSERT INTO predictions VALUES ('r', 2, 3, 'text', x'00')", "predictions.probabilities of run r holds the text 'text'")] // was InvalidCastException
    [TestCase("INSERT INTO predictions VALUES ('r', 65536, 65536, x'00', x'00')", "predictions of run r are corrupt")]
    [TestCase("ALTER TABLE metrics DROP COLUMN details_json", "table 'metrics' cannot be read")] // was SqliteException
    public void AForeignOrDamagedStoreNamesFileTableAndColumn(string sql, string message)
    {
        string path = Store(StoreSchema + sql);
        var e = Assert.Throws<InvalidDataException>(() =>
        {
            using var store = new ResultStore(path);
            store.AllRuns();
            store.AllMetrics();
            store.Predictions("r");
        })!;
        Assert.That(e.Message, Does.Contain(Path.GetFullPath(path)).And.Contain(message));
    }

    [Test]
    public void AStoreRefusedForItsSchemaVersionIsClosedSoTheNextOpenDoesNotWait()
    {
        // The refusal left the connection open: the next open in the process waited on its locks (10 s busy timeout, retried).
        string path = Store(StoreSchema.Replace("'schema_version', '1'", "'schema_version', '2'"));
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < 3; k++) Assert.Throws<InvalidDataException>(() => new ResultStore(path).Dispose());
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(5));
    }
}
