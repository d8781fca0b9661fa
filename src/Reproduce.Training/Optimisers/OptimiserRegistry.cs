using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// An optimiser as registered: its name (what settings and regimes write in "optimiser"), a description for
/// <c>reproduce list optimisers</c>, its own hyper-parameters with their defaults (what "optimiserParameters" may set),
/// and a factory that builds it from <see cref="OptimiserSettings"/>, reading its own hyper-parameters by name.
/// </summary>
public sealed record OptimiserRegistration(string Name, string Description, OptimiserRegistry.Factory Factory)
{
    /// <summary>The optimiser's own hyper-parameters and their defaults (name -> value).</summary>
    public IReadOnlyDictionary<string, double> ParameterDefaults { get; init; } = new SortedDictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Gradient evaluations per step relative to plain SGD (for run scheduling and the ETA only; SAM-like
    /// optimisers re-evaluate the loss at perturbed weights). 1 unless stated.</summary>
    public double StepCost { get; init; } = 1;
}

/// <summary>
/// Optimisers by name. To try your own, write a class deriving from torch.optim.Optimizer (or wrap one) and add one
/// line, e.g. <c>OptimiserRegistry.Register(new("lion", "Lion (Chen et al. 2023)", (ps, s) =&gt; new Lion(ps,
/// s.LearningRate, s["beta1"], s["beta2"], s.WeightDecay)) { ParameterDefaults = new Dictionary&lt;string, double&gt;
/// { ["beta1"] = 0.9, ["beta2"] = 0.99 } });</c>. Settings and regimes then name it ("optimiser": "lion") and may set
/// its parameters ("optimiserParameters": { "beta2": 0.98 }); every claim re-runs with it.
/// </summary>
public static class OptimiserRegistry
{
    public delegate optim.Optimizer Factory(IEnumerable<Parameter> parameters, OptimiserSettings settings);

    private static readonly Dictionary<string, OptimiserRegistration> registrations = new(StringComparer.Ordinal);
    private static readonly object gate = new();

    static OptimiserRegistry()
    {
        Register(new("sgd", "SGD with heavy-ball momentum (PyTorch semantics: b = mu b + g), coupled weight decay",
            (ps, s) => optim.SGD(ps, s.LearningRate, momentum: s.Momentum, weight_decay: s.WeightDecay)));
        Register(new("adam", "Adam (Kingma & Ba) with coupled L2 weight decay (PyTorch's Adam(weight_decay))",
            (ps, s) => optim.Adam(ps, s.LearningRate, beta1: s["beta1"], beta2: s["beta2"], eps: s["epsilon"], weight_decay: s.WeightDecay))
        {
            ParameterDefaults = new Dictionary<string, double> { ["beta1"] = 0.9, ["beta2"] = 0.999, ["epsilon"] = 1e-8 },
        });
        // Perturbed-gradient optimisers around SGD (the recipe's momentum and weight decay); see each class for the rule.
        Register(new("asam", "ASAM (Kwon et al. 2021): SAM in the |w| + eta-scaled ball, e = rho T^2 g / ||T g||, around SGD",
            (ps, s) => { var list = ps.ToList(); return new Asam(list, Sgd(list, s), s["rho"], s["eta"]); })
        { ParameterDefaults = new Dictionary<string, double> { ["rho"] = 0.5, ["eta"] = 0.01 }, StepCost = 2 });
        Register(new("gam", "GAM (Zhang et al. 2023, Algorithm 1): gradient of L + alpha rho max ||grad L|| over the rho-ball, by Hessian-vector products, around SGD",
            (ps, s) => { var list = ps.ToList(); return new Gam(list, Sgd(list, s), s["rho"], s["alpha"]); })
        { ParameterDefaults = new Dictionary<string, double> { ["rho"] = 0.05, ["alpha"] = 1 }, StepCost = 5 });
        Register(new("frob-sam", "Frob-SAM (Tahmasebi et al. 2024): gradient of L + lambda / (2 rho^2) Var_k L(w + rho d_k), d_k ~ N(0, I), around SGD",
            (ps, s) => { var list = ps.ToList(); return new FrobeniusSam(list, Sgd(list, s), s["rho"], s["lambda"], checked((int)s["samples"]), s.Seed); })
        { ParameterDefaults = new Dictionary<string, double> { ["rho"] = 0.01, ["lambda"] = 0.005, ["samples"] = 2 }, StepCost = 3 });
        Register(new("trace-sam", "Trace-SAM (Tahmasebi et al. 2024, the universal class with psi = phi = identity): g + lambda mean_k (grad L(w + rho d_k) - g), d_k ~ N(0, I), around SGD",
            (ps, s) => { var list = ps.ToList(); return new UniversalSam(list, Sgd(list, s), UniversalSamMember.Trace, s["rho"], s["lambda"], checked((int)s["samples"]), s.Seed); })
        { ParameterDefaults = new Dictionary<string, double> { ["rho"] = 0.01, ["lambda"] = 1, ["samples"] = 1 }, StepCost = 2 });
        Register(new("det-sam", "Det-SAM (Tahmasebi et al. 2024, the universal class with psi = exp(-x/2), phi = s^-2, d uniform in the cube [-c, c]): biased towards a small det(H), around SGD",
            (ps, s) => { var list = ps.ToList(); return new UniversalSam(list, Sgd(list, s), UniversalSamMember.Determinant(s["halfCube"]), s["rho"], s["lambda"], checked((int)s["samples"]), s.Seed); })
        { ParameterDefaults = new Dictionary<string, double> { ["rho"] = 1, ["lambda"] = 1, ["samples"] = 1, ["halfCube"] = 0.01 }, StepCost = 2 });
    }

    /// <summary>The base optimiser of the perturbed-gradient optimisers: SGD with the recipe's momentum and weight decay.</summary>
    private static optim.Optimizer Sgd(IEnumerable<Parameter> parameters, OptimiserSettings s) =>
        optim.SGD(parameters, s.LearningRate, momentum: s.Momentum, weight_decay: s.WeightDecay);

    public static IReadOnlyList<string> Names { get { lock (gate) return [.. registrations.Keys.Order(StringComparer.Ordinal)]; } }

    public static IReadOnlyList<OptimiserRegistration> All { get { lock (gate) return [.. registrations.Values.OrderBy(r => r.Name, StringComparer.Ordinal)]; } }

    public static void Register(OptimiserRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentException.ThrowIfNullOrWhiteSpace(registration.Name);
        ArgumentNullException.ThrowIfNull(registration.Factory);
        foreach (var (name, value) in registration.ParameterDefaults)
            if (string.IsNullOrWhiteSpace(name) || !double.IsFinite(value))
                throw new ArgumentException($"Optimiser '{registration.Name}': parameter '{name}' needs a name and a finite default (got {value}).");
        lock (gate) registrations[registration.Name] = registration;
    }

    public static bool Contains(string name) { lock (gate) return registrations.ContainsKey(name); }

    public static OptimiserRegistration Get(string name)
    {
        lock (gate)
            if (registrations.TryGetValue(name, out var registration)) return registration;
        throw new ArgumentException($"Unknown optimiser '{name}'. Valid: {string.Join(", ", Names)}.");
    }

    /// <summary>The names among <paramref name="given"/> that optimiser <paramref name="name"/> does not declare, with a
    /// message listing the ones it does (null when all are known).</summary>
    public static string? UnknownParameters(string name, IEnumerable<string> given)
    {
        var known = Get(name).ParameterDefaults;
        var unknown = given.Where(g => !known.ContainsKey(g)).ToList();
        if (unknown.Count == 0) return null;
        return $"optimiser '{name}' has no parameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}; "
            + (known.Count == 0 ? "it has none" : $"it has: {string.Join(", ", known.Keys.Order(StringComparer.Ordinal))}");
    }

    /// <summary>The optimiser over <paramref name="parameters"/>, its own hyper-parameters being the registration's
    /// defaults overridden by those the settings name (an undeclared name is an error).</summary>
    public static optim.Optimizer Create(string name, IEnumerable<Parameter> parameters, OptimiserSettings settings)
    {
        var registration = Get(name);
        if (!(settings.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(settings), settings.LearningRate, "The learning rate must be positive.");
        var given = settings.OptimiserParameters ?? new Dictionary<string, double>();
        if (UnknownParameters(name, given.Keys) is { } problem) throw new ArgumentException($"Optimiser parameters: {problem}.");
        var merged = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in registration.ParameterDefaults) merged[key] = value;
        foreach (var (key, value) in given) merged[key] = value;
        return registration.Factory(parameters, settings with { OptimiserParameters = merged });
    }
}
