using System.Text;
using System.Text.Json;

namespace Reproduce.Training.Serialisation;

/// <summary>
/// Finds a key that appears twice in one JSON object. System.Text.Json's document reader keeps both silently (and its
/// node reader fails with a message naming neither file nor key), so every reader of the suite's files asks here first
/// and reports the key and its JSON path in its own error.
/// </summary>
public static class DuplicateKeys
{
    public sealed record Duplicate(string Path, string Key)
    {
        public override string ToString() => $"{Path}: key '{Key}' appears twice";
    }

    /// <summary>The first duplicated key in document order, or null (also for malformed JSON, which the parser reports).</summary>
    public static Duplicate? Find(string json) => Walk(json, strings: false).Duplicate;

    /// <summary>
    /// The JSON path of the first key or string value that is not valid UTF-16 (a lone surrogate escape such as "\ud800"
    /// is valid JSON, but System.Text.Json throws InvalidOperationException when it is read as a string), or null.
    /// </summary>
    public static string? FindInvalidString(string json) => Walk(json, strings: true).InvalidString;

    private static (Duplicate? Duplicate, string? InvalidString) Walk(string json, bool strings)
    {
        var frames = new Stack<Frame>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        string pending = "$";
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        frames.Push(new Frame(ValuePath(frames, pending), []));
                        break;
                    case JsonTokenType.StartArray:
                        frames.Push(new Frame(ValuePath(frames, pending), null));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.Pop();
                        if (frames.Count > 0 && frames.Peek().Keys is null) frames.Peek().Index++;
                        break;
                    case JsonTokenType.PropertyName:
                        var frame = frames.Peek();
                        string name;
                        try { name = reader.GetString()!; }
                        catch (InvalidOperationException)
                        {
                            name = Encoding.UTF8.GetString(reader.ValueSpan); // the raw, still escaped, text
                            if (strings) return (null, $"{frame.Path}.{name}");
                        }
                        if (!strings && !frame.Keys!.Add(name)) return (new Duplicate(frame.Path, name), null);
                        pending = name;
                        break;
                    case JsonTokenType.String when strings:
                        try { reader.GetString(); }
                        catch (InvalidOperationException) { return (null, ValuePath(frames, pending)); }
                        if (frames.Count > 0 && frames.Peek().Keys is null) frames.Peek().Index++;
                        break;
                    default:
                        if (frames.Count > 0 && frames.Peek().Keys is null) frames.Peek().Index++;
                        break;
                }
            }
        }
        catch (JsonException) { return (null, null); }
        return (null, null);
    }

    private static string ValuePath(Stack<Frame> frames, string pending) =>
        frames.Count == 0 ? "$" : frames.Peek().Keys is null ? $"{frames.Peek().Path}[{frames.Peek().Index}]" : $"{frames.Peek().Path}.{pending}";

    private sealed class Frame(string path, HashSet<string>? keys)
    {
        public string Path { get; } = path;
        public HashSet<string>? Keys { get; } = keys;
        public int Index { get; set; }
    }
}
