using Reproduce.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Incremental;

/// <summary>
/// The samples of a class subset, and a session's k-shot draw. Both keep the data set's order, so they are functions of
/// the data, the classes and (for the draw) the generator's state only.
/// </summary>
public static class ClassSplit
{
    /// <summary>Every sample whose label is one of <paramref name="classes"/>, in the data set's order.</summary>
    public static Dataset Select(Dataset data, IReadOnlyList<int> classes, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var scope = NewDisposeScope();
        var labels = data.Targets.cpu();
        var mask = zeros_like(labels, dtype: ScalarType.Bool);
        foreach (int c in classes) mask = mask.logical_or(labels.eq(c));
        var index = mask.nonzero().flatten();
        if (index.shape[0] == 0)
            throw new ArgumentException($"{data.Name}: no sample of the {what} classes {string.Join(", ", classes)}.");
        return new Dataset(data.Inputs.index_select(0, index), data.Targets.index_select(0, index), $"{data.Name}[{what}]");
    }

    /// <summary>
    /// A session's training set: for each class in <paramref name="classes"/> (in that order), the first
    /// <paramref name="shots"/> of a random permutation of that class's samples, drawn from <paramref name="generator"/>
    /// (one randperm per class, in class order). Class-major: sample i belongs to classes[i / shots], the layout the
    /// prototype loss relies on.
    /// </summary>
    public static Dataset Shots(Dataset data, IReadOnlyList<int> classes, int shots, Generator generator, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (shots < 1) throw new ArgumentOutOfRangeException(nameof(shots), shots, "At least one shot.");
        using var scope = NewDisposeScope();
        var labels = data.Targets.cpu();
        var picked = new List<Tensor>();
        foreach (int c in classes)
        {
            var members = labels.eq(c).nonzero().flatten();
            if (members.shape[0] < shots)
                throw new ArgumentException($"{data.Name}: class {c} has {members.shape[0]} samples, fewer than the {shots} shots of {what}.");
            picked.Add(members.index_select(0, randperm(members.shape[0], generator: generator).narrow(0, 0, shots)));
        }
        var index = cat(picked, 0);
        return new Dataset(data.Inputs.index_select(0, index), data.Targets.index_select(0, index), $"{data.Name}[{what}: {classes.Count}-way {shots}-shot]");
    }
}
