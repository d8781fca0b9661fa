using System.Reflection;

namespace OptimiserAuthor;

/// <summary>
/// Where things are. Both folders are fixed at build time (OptimiserAuthor.csproj writes them into the assembly), so the
/// tests find the suite wherever the example is copied: ReproduceRoot is the suite's checkout (its claims/, baselines/
/// and appsettings*.json), ExampleFolder this project's folder (its claims/, expected-verdicts.json and results/).
/// </summary>
public static class Example
{
    public static string ReproduceRoot { get; } = Metadata("ReproduceRoot");
    public static string Folder { get; } = Metadata("ExampleFolder");

    public static string Path(params string[] parts) => System.IO.Path.Combine([Folder, .. parts]);

    private static string Metadata(string key) =>
        FullPath(typeof(Example).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
            ?? throw new InvalidOperationException($"The test assembly carries no '{key}' metadata: build it with OptimiserAuthor.csproj."));

    private static string FullPath(string folder) => System.IO.Path.GetFullPath(folder);
}
