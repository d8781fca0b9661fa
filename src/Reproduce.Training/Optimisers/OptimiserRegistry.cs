using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// Optimisers by name. To try your own, write a class deriving from torch.optim.Optimizer (or wrap one) and add one
/// line: <c>OptimiserRegistry.Register("mine", (ps, s) =&gt; new Mine(ps, s.LearningRate));</c>. Claims and regimes
/// then name it ("optimiser": "mine") and every claim re-runs with it.
/// </summary>
public static class OptimiserRegistry
{
    public delegate optim.Optimizer Factory(IEnumerable<Parameter> parameters, OptimiserSettings settings);

    private static readonly Dictionary<string, Factory> factories = new(StringComparer.Ordinal)
    {
        ["sgd"] = (ps, s) => optim.SGD(ps, s.LearningRate, momentum: s.Momentum, weight_decay: s.WeightDecay),
        ["adam"] = (ps, s) => optim.Adam(ps, s.LearningRate, beta1: s.Beta1, beta2: s.Beta2, eps: s.Epsilon, weight_decay: s.WeightDecay),
    };
    private static readonly object gate = new();

    public static IReadOnlyList<string> Names { get { lock (gate) return [.. factories.Keys.Order()]; } }

    public static void Register(string name, Factory factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        lock (gate) factories[name] = factory;
    }

    public static bool Contains(string name) { lock (gate) return factories.ContainsKey(name); }

    public static optim.Optimizer Create(string name, IEnumerable<Parameter> parameters, OptimiserSettings settings)
    {
        Factory? factory;
        lock (gate) factories.TryGetValue(name, out factory);
        if (factory is null) throw new ArgumentException($"Unknown optimiser '{name}'. Valid: {string.Join(", ", Names)}.");
        if (!(settings.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(settings), settings.LearningRate, "The learning rate must be positive.");
        return factory(parameters, settings);
    }
}
