using TorchSharp;

namespace Reproduce.Training.Models;

/// <summary>
/// The one gate over libtorch's default CPU generator. A model's initial weights are drawn from that generator, which
/// is a single object per process: a build seeds it, then every layer draws its weights from it in order. Two threads
/// that build at once (a worker building its next run's model while another copies a model for the Dinh rescaling or
/// an incremental session, or loads a checkpoint) would interleave their seed-and-draw sequences, and a run would
/// start from weights its seed does not give, silently and only when the timing collides (measured: 74 of 400
/// concurrent builds drew other weights without this gate). Every model constructor seeds through
/// <see cref="Seeded"/>, and everything else that touches the default generator's state holds <see cref="Hold"/>.
/// The gate is re-entrant on one thread (a copy holds it across its own build).
/// </summary>
public static class InitialWeights
{
    private static readonly object Gate = new();

    /// <summary>Holds the gate until disposed, then seeds the default generator with <paramref name="seed"/>.</summary>
    public static Held Seeded(long seed)
    {
        var held = Hold();
        torch.manual_seed(seed);
        return held;
    }

    /// <summary>Holds the gate until disposed (on the same thread).</summary>
    public static Held Hold()
    {
        Monitor.Enter(Gate);
        return new Held();
    }

    /// <summary>The gate, held; disposing it lets the next build draw.</summary>
    public readonly struct Held : IDisposable
    {
        public void Dispose() => Monitor.Exit(Gate);
    }
}
