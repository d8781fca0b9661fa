using System.Text;
using System.Text.Json;

namespace Reproduce.Training.Serialisation;

/// <summary>
/// What System.Text.Json accepts but must not pass silently, found in one walk over the text before a reader parses it:
/// a key that appears twice in one object (the document reader keeps both and reads the last; the node reader fails
/// with a message naming neither file nor key), and a key or string value that is not valid UTF-16 (a lone surrogate
/// escape such as "\ud800" is valid JSON, but reading it as a string throws InvalidOperationException). Every reader
/// of the suite's files asks here first and reports the problem with its JSON path in its own error.
/// </summary>
public static class JsonTextCheck
{
    public enum Kind { DuplicateKey, InvalidString }

    public sealed record Problem(Kind Kind, string Path, string Message)
    {
        public override string ToString() => $"{Path}: {Message}";
    }

    private const string InvalidStringMessage = "holds a string that is not valid UTF-16 (a lone surrogate escape such as \\ud800)";

    /// <summary>
    /// The first duplicated key in document order if there is one, else the first invalid string, else null (also for
    /// malformed JSON, which the parser then reports).
    /// </summary>
    public static Problem? Find(string json)
    {
        var frames = new Stack<Frame>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        string pending = "$";
        Problem? invalid = null;
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
                        NextElement(frames);
                        break;
                    case JsonTokenType.PropertyName:
                        var frame = frames.Peek();
                        string name;
                        try { name = reader.GetString()!; }
                        catch (InvalidOperationException)
                        {
                            name = Encoding.UTF8.GetString(reader.ValueSpan); // the raw, still escaped, text
                            invalid ??= new Problem(Kind.InvalidString, $"{frame.Path}.{name}", InvalidStringMessage);
                        }
                        if (!frame.Keys!.Add(name)) return new Problem(Kind.DuplicateKey, frame.Path, $"key '{name}' appears twice");
                        pending = name;
                        break;
                    case JsonTokenType.String:
                        try { reader.GetString(); }
                        catch (InvalidOperationException) { invalid ??= new Problem(Kind.InvalidString, ValuePath(frames, pending), InvalidStringMessage); }
                        NextElement(frames);
                        break;
                    default:
                        NextElement(frames);
                        break;
                }
            }
        }
        catch (JsonException) { return null; }
        return invalid;
    }

    /// <summary>A value ended: inside an array, the next one has the next index.</summary>
    private static void NextElement(Stack<Frame> frames)
    {
        if (frames.Count > 0 && frames.Peek().Keys is null) frames.Peek().Index++;
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
