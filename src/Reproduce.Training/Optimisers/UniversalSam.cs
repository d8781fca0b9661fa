using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproduce.Training.Optimisers;

/// <summary>
/// A member of the universal class of SAM objectives (Tahmasebi, Soleymani, Bahri, Jegelka, Jaillet, ICML 2024, arXiv
/// 2406.03682), as the released ISAM optimiser (dbahri/universal_sam solver/sam.py) computes it: the objective
/// <code>
///   L(w) + lambda phi( E_{d ~ mu} psi( (L(w + rho d) - L(w)) / rho^2 ) )
/// </code>
/// whose bias as rho -> 0 at a critical point is phi(E_mu psi(d^T H d / 2)): a function of the Hessian chosen by
/// (phi, psi, mu). The step's gradient, with n draws d_k ~ mu, L_k = L(w + rho d_k), G_k = grad L(w + rho d_k),
/// x_k = (L_k - L(w)) / rho^2 and xbar = (1/n) sum_k psi(x_k), is the code's
/// <code>
///   grad L(w) + lambda phi'(xbar) (1/n) sum_k psi'(x_k) (G_k - grad L(w))
/// </code>
/// (the exact gradient has a further 1/rho^2, which the code leaves to lambda; so does this class). The base optimiser
/// steps with it. Draws come parameter by parameter in parameter order from a CPU generator seeded by the run's seed
/// (offset so that it is not the trainer's shuffle stream) and are moved to the parameter's device; x_k is formed in
/// float64. As in Frob-SAM (<see cref="FrobeniusSam"/>), grad L(w) is the gradient at the unperturbed weights, which the
/// released code keeps by reference across its zero_grad (PyTorch's set_to_none default).
/// </summary>
public class UniversalSam : PerturbedGradientOptimiser
{
    /// <summary>Added to the run's seed for the perturbation generator, so its stream differs from the trainer's and
    /// from Frob-SAM's.</summary>
    public const long SeedOffset = 0x15A3;

    private readonly Generator generator;

    public UniversalSam(IEnumerable<Parameter> parameters, optim.Optimizer baseOptimiser, UniversalSamMember member, double rho, double lambda, int samples, long seed)
        : base(parameters, baseOptimiser)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!(rho > 0 && double.IsFinite(rho))) throw new ArgumentOutOfRangeException(nameof(rho), rho, $"{member.Name}'s rho must be positive and finite.");
        if (!(lambda >= 0 && double.IsFinite(lambda))) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"{member.Name}'s lambda must be non-negative and finite.");
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, $"{member.Name} needs at least 1 perturbation per step.");
        Member = member; Rho = rho; Lambda = lambda; Samples = samples;
        generator = new Generator((ulong)(seed + SeedOffset));
    }

    public UniversalSamMember Member { get; }
    public double Rho { get; }
    public double Lambda { get; }
    public int Samples { get; }

    /// <summary>The perturbation direction d_k for every parameter (before scaling by rho): one draw from mu of each
    /// parameter's shape, in parameter order.</summary>
    protected virtual IReadOnlyList<Tensor> Draw() =>
        [.. Parameters.Select(p => Member.Sample(p.shape, p.dtype, generator).to(p.device))];

    protected override IReadOnlyList<Tensor> Gradient(Tensor loss, Func<Tensor> closure)
    {
        double unperturbed = loss.detach().to(ScalarType.Float64).item<double>();
        var g0 = BackwardGradient(loss);
        var sum = Parameters.Select(p => zeros_like(p)).ToList();
        double meanPsi = 0;
        for (int k = 0; k < Samples; k++)
        {
            var (value, gk) = AtOffset([.. Draw().Select(d => d * Rho)], closure);
            double x = (value - unperturbed) / (Rho * Rho);
            meanPsi += Member.Psi(x) / Samples;
            double weight = Member.PsiPrime(x) / Samples;
            for (int i = 0; i < gk.Count; i++) sum[i].add_(gk[i] - g0[i], alpha: weight);
        }
        double scale = Lambda * Member.PhiPrime(meanPsi);
        if (!double.IsFinite(scale)) throw new ArithmeticException($"{Member.Name}: lambda phi'(xbar) is {scale} (xbar = {meanPsi}); the step would not be finite.");
        return [.. g0.Select((g, i) => g + sum[i] * scale)];
    }
}

/// <summary>
/// One member of the universal class: psi, psi', phi' and the draw from mu, as the released code's settings define
/// them. <see cref="Trace"/>: psi = phi = identity, mu = N(0, I) (the code's "hypersphere" sampler never applies its
/// normalisation), so E psi(d^T H d / 2) = tr(H) / 2. <see cref="Determinant"/>: psi(x) = exp(-x/2), phi(s) = s^-2 (so
/// phi'(s) = -2 s^-3), mu = Lebesgue measure, drawn uniformly from the cube [-c, c]^d: the integral of exp(-d^T H d / 4)
/// is (4 pi)^(d/2) det(H)^(-1/2), so phi of it grows with det(H) (the constant (2 pi)^d is left to lambda, as in the code).
/// </summary>
public sealed record UniversalSamMember(string Name, Func<double, double> Psi, Func<double, double> PsiPrime, Func<double, double> PhiPrime,
    Func<long[], ScalarType, Generator, Tensor> Sample)
{
    public static readonly UniversalSamMember Trace = new("Trace-SAM", x => x, _ => 1, _ => 1,
        (shape, dtype, g) => randn(shape, dtype: dtype, generator: g));

    /// <summary>Det-SAM with the uniform cube's half side c.</summary>
    public static UniversalSamMember Determinant(double halfCube)
    {
        if (!(halfCube > 0 && double.IsFinite(halfCube))) throw new ArgumentOutOfRangeException(nameof(halfCube), halfCube, "Det-SAM's half cube side must be positive and finite.");
        return new("Det-SAM", x => Math.Exp(-x / 2), x => -0.5 * Math.Exp(-x / 2), s => -2 / (s * s * s),
            (shape, dtype, g) => rand(shape, dtype: dtype, generator: g) * (2 * halfCube) - halfCube);
    }
}
