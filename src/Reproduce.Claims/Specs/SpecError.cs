namespace Reproduce.Claims.Specs;

/// <summary>One problem in an input file: the file, the JSON path of the offending value, and what is wrong.</summary>
public sealed record SpecError(string File, string JsonPath, string Message)
{
    public override string ToString() => $"{File}: {JsonPath}: {Message}";
}

/// <summary>A file that cannot be used, with every problem found in it (not just the first).</summary>
public sealed class SpecException : Exception
{
    public SpecException(IReadOnlyList<SpecError> errors)
        : base(string.Join(Environment.NewLine, errors.Select(e => e.ToString()))) => Errors = errors;

    public SpecException(string file, string path, string message) : this([new SpecError(file, path, message)]) { }

    public IReadOnlyList<SpecError> Errors { get; }
}
