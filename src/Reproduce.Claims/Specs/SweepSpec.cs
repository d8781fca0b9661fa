using System.Globalization;

namespace Reproduce.Claims.Specs;

/// <summary>
/// A budget axis a sweep varies: a field of the setting profile (claims/settings/*.json), overridden in every setting
/// the swept claims train. The names are the settings' own field names, so a sweep reads like a setting edit.
/// </summary>
public static class SweepAxes
{
    /// <summary>
    /// epochs, trainSize, batchSize and learningRate replace the setting profile's field. trainSize also caps measureSize
    /// at the new size (the measures use the first measureSize training samples, which must exist). widthFactor multiplies
    /// every hidden width of the model (an MLP's inner widths; a LeNet's channels and hidden widths; a ResNet's
    /// channels), rounded to the nearest integer and at least 1; input and output widths stay.
    /// </summary>
    public static readonly IReadOnlyList<string> Names = ["epochs", "trainSize", "batchSize", "learningRate", "widthFactor"];

    /// <summary>A setting profile's own value on an axis, the value at which a cell re-tests the catalogue setting itself
    /// (widthFactor: 1, the profile's own widths).</summary>
    public static double OwnValue(SettingProfile profile, string axis) => axis switch
    {
        "epochs" => profile.Epochs,
        "trainSize" => profile.TrainSize,
        "batchSize" => profile.BatchSize,
        "learningRate" => profile.LearningRate,
        "widthFactor" => 1,
        _ => throw new ArgumentException($"unknown sweep axis '{axis}'", nameof(axis)),
    };

    /// <summary>The axes whose values are counts (integers at least 1); the others are positive reals.</summary>
    public static bool IsCount(string axis) => axis is "epochs" or "trainSize" or "batchSize";
}

/// <summary>One axis of a sweep: a field and its values, in the order the map shows them.</summary>
public sealed record SweepAxis(string Field, IReadOnlyList<double> Values);

/// <summary>
/// A verdict map (claims/sweeps/&lt;id&gt;.json): claims re-run over a grid of budgets. Each cell of the grid (one value
/// per axis) re-evaluates every listed claim on copies of its settings with the cell's values (<see cref="SweepCell"/>),
/// so a cell is an ordinary claim: planned, trained once per distinct run (a cell whose values equal the setting's
/// shares the catalogue claim's runs, because a run's key is its recipe, not its setting's name), resumable, shardable,
/// merged, evaluated and held to a reviewed baseline. The report draws each claim's cells as a heatmap.
/// <para>Multiple testing: the cells of a sweep form one family (<see cref="Family"/>), adjusted together by
/// Benjamini-Yekutieli, so the false discovery rate is controlled over the whole map, and a map cannot dilute or inflate
/// the catalogue's own families.</para>
/// </summary>
public sealed record SweepSpec
{
    public required string Id { get; init; }
    public required string File { get; init; }
    public string Description { get; init; } = "";
    /// <summary>The claims swept (catalogue ids).</summary>
    public required IReadOnlyList<string> Claims { get; init; }
    /// <summary>The settings swept; null = every setting of each claim. A claim keeps only its settings listed here.</summary>
    public IReadOnlyList<string>? Settings { get; init; }
    /// <summary>One or two axes (rows, then columns of the heatmap).</summary>
    public required IReadOnlyList<SweepAxis> Axes { get; init; }
    /// <summary>The profiles the sweep runs at; null = every profile at which all its claims run.</summary>
    public IReadOnlyList<string>? Profiles { get; init; }

    /// <summary>Started from the command line and saved in an output folder (`reproduce sweep`): its cells are that folder's
    /// exploration, held to no reviewed baseline (none is written for them either).</summary>
    public bool Local { get; init; }

    public string Family => $"sweep:{Id}";

    public bool RunsAt(string profile) => Profiles is null || Profiles.Contains(profile);

    /// <summary>Every cell of the grid, first axis slowest (row-major).</summary>
    public IReadOnlyList<IReadOnlyList<(string Field, double Value)>> Cells()
    {
        IEnumerable<IReadOnlyList<(string, double)>> cells = [[]];
        foreach (var axis in Axes)
            cells = cells.SelectMany(c => axis.Values.Select(v => (IReadOnlyList<(string, double)>)[.. c, (axis.Field, v)])).ToList();
        return [.. cells];
    }

    /// <summary>"epochs=12,trainSize=250": a cell's values as text (invariant, round-trip), used in derived names.</summary>
    public static string Label(IReadOnlyList<(string Field, double Value)> cell) =>
        string.Join(",", cell.Select(c => $"{c.Field}={c.Value.ToString("R", CultureInfo.InvariantCulture)}"));
}

/// <summary>
/// What makes a claim a sweep's cell: the sweep, the catalogue claim it re-evaluates and the cell's axis values. The
/// cell's claim id is "&lt;sweep&gt;.&lt;claim&gt;@&lt;label&gt;" and its settings "&lt;setting&gt;@&lt;label&gt;"
/// (<see cref="SweepSpec.Label"/>), so a --filter on the sweep's id selects the whole map.
/// </summary>
public sealed record SweepCell(string Sweep, string Claim, IReadOnlyList<(string Field, double Value)> Values)
{
    public string Label => SweepSpec.Label(Values);
    public double ValueOf(string field) => Values.First(v => v.Field == field).Value;
}
