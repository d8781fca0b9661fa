namespace Reproduce.Training;

/// <summary>One epoch's record: mean training loss over the epoch's steps and training accuracy of those steps.</summary>
public sealed record EpochLog(int Epoch, double Loss, double Accuracy);

/// <summary>
/// What a training run produced. A diverged run (NaN or Inf loss) says where it diverged instead of passing NaN
/// weights on to the measures.
/// </summary>
public sealed record TrainingResult(IReadOnlyList<EpochLog> Epochs, long Steps, bool Diverged, long? DivergedAtStep)
{
    public string Describe() => Diverged ? $"diverged at step {DivergedAtStep}" : $"completed {Epochs.Count} epochs ({Steps} steps)";
}
