namespace Reproduce.Training;

/// <summary>
/// Mini-batch SGD settings with PyTorch semantics: momentum buffer b = mu b + g, and coupled weight decay
/// g = grad + wd * w (the paper's "WD"). A batch size of 0 means full batch.
/// </summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.0;
    public double WeightDecay { get; init; } = 0.0;
    public long Seed { get; init; } = 0;
    public bool MeanSquaredError { get; init; } = false;
    /// <summary>SAM's neighbourhood radius; 0 trains without SAM.</summary>
    public double SamRho { get; init; } = 0.0;
}
