using Reproduce.Measurement.Hessian;
using static TorchSharp.torch;

namespace Reproduce.Measurement.StochasticConvex;

/// <summary>How a sample z gates the coordinates of w in <see cref="FlatMinimaConstruction"/>.</summary>
public enum ScoGate
{
    /// <summary>Theorem 1: z(i) in {0, 1}, gate i contributes z(i) w(i)^2 (one coordinate per gate).</summary>
    Quadratic,
    /// <summary>Theorem 3: z(i) in {-1, 1}, gate i contributes sum_j [z(i) w^(i)(j)]_+^2 over its block of coordinates.</summary>
    Relu,
}

/// <summary>
/// The hard instances of Schliserman, Vansover-Hager and Koren, "Flat Minima and Generalization: Insights from Stochastic
/// Convex Optimization" (arXiv 2511.03548 v2, Theorems 1 and 3 with their proofs in Appendix A and B.2), computed exactly
/// in float64.
/// <para>Coordinates: G = 2^n gates (n the training-set size), each with a block of B coordinates (B = 1 in Theorem 1,
/// B = T in Theorem 3), then one extra coordinate d (the last; dimension G B + 1). z is uniform on {0,1}^G (Theorem 1)
/// or {-1,1}^G (Theorem 3). With q_z(w) = sum_i sum_j g(z(i), w^(i)(j)) + w(d)^2, where g(z, x) = z x^2 (quadratic
/// gate) or [z x]_+^2 (ReLU gate), the loss is
///   f(w, z) = 1/2 [ sqrt(q_z(w)) - rho ]_+^2,
/// non-negative, convex, 1-Lipschitz and 1-smooth on the unit ball and rho-flat (the paper's Lemma "well defined").
/// F_S is its mean over the sample S, F its expectation over z; F >= 0 and F(0) = 0, so the population minimum F(w*) is 0.</para>
/// <para>Write s = sqrt(q), u = grad(q)/2 (u^(i)(j) = z(i) w^(i)(j) for the quadratic gate, z(i) [z(i) w^(i)(j)]_+ for the
/// ReLU gate, u(d) = w(d)) and Gm = the diagonal of grad^2(q)/2 (z(i) for the quadratic gate, 1[z(i) w^(i)(j) &gt; 0] for the
/// ReLU gate, 1 at d). Where s &gt; rho: grad f = (1 - rho/s) u and Hess f = (rho/s^3) u u^T + (1 - rho/s) Gm; where
/// s &lt; rho both vanish; at s = rho the gradient is 0 and the Hessian does not exist (one-sided limits 0 and
/// u u^T / rho^2 + 0: f is C^1, not C^2, there).</para>
/// <para>Theorem 1 (SA-ERM): if some gate I has z(I) = 0 in every training sample (probability 1 - (1 - 2^-n)^(2^n) &gt;
/// 1 - 1/e), the flat minimiser e_I has F_S = 0 on the whole ball of radius rho around it (rho-flat) and
/// F(e_I) = P(z(I) = 1) (1 - rho)^2 / 2 = (1 - rho)^2 / 4 &gt;= 1/16 for rho &lt;= 1/2, whatever n; the sharp minimiser
/// rho e_d has F_S = F = 0 and F_S^delta(rho e_d) = delta^2 / 2 for every delta &gt; 0, the most that 1-smoothness
/// allows.</para>
/// <para>Theorem 3 (SA-GD): if some gate I has z(I) = 1 in every training sample, SA-GD from w_1 = 0 whose maximiser is
/// chosen as v_t = r e_(I,t) (the paper's oracle O_S^t: a fresh coordinate of gate I) moves by -eta (r - rho) along
/// e_(I,t) at step t, so w_t(I, s) = -eta (r - rho) for s &lt; t; every suffix average is a rho-flat empirical minimiser,
/// and a fresh z with z(I) = -1 (probability 1/2) activates the whole block: F(w_hat) = [ ||w_hat^(I)|| - rho ]_+^2 / 4.</para>
/// Every routine reads its arguments and never changes them.
/// </summary>
public sealed class FlatMinimaConstruction
{
    /// <summary>More active gates than this make the exact population risk (2^k terms) refuse.</summary>
    public const int MaxExactGates = 20;

    /// <summary>An instance: gate kind, training-set size n (2^n gates), block size B and flatness radius rho.</summary>
    public FlatMinimaConstruction(ScoGate gate, int sampleSize, int blockSize, double flatness)
    {
        if (sampleSize is < 1 or > 24) throw new ArgumentOutOfRangeException(nameof(sampleSize), sampleSize, "The training-set size n must be in [1, 24] (2^n gates).");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "A gate's block has at least one coordinate.");
        if (!(flatness >= 0) || !double.IsFinite(flatness)) throw new ArgumentOutOfRangeException(nameof(flatness), flatness, "The flatness radius rho must be finite and non-negative.");
        long dimension = (1L << sampleSize) * blockSize + 1;
        if (dimension > 1L << 26) throw new ArgumentOutOfRangeException(nameof(blockSize), $"2^{sampleSize} gates x {blockSize} coordinates + 1 = {dimension} exceeds 2^26 coordinates.");
        Gate = gate; SampleSize = sampleSize; BlockSize = blockSize; Flatness = flatness;
        Gates = 1 << sampleSize;
        Dimension = (int)dimension;
    }

    /// <summary>Theorem 1's instance: quadratic gates, one coordinate each, d = 2^n + 1.</summary>
    public static FlatMinimaConstruction Theorem1(int sampleSize, double flatness) => new(ScoGate.Quadratic, sampleSize, 1, flatness);

    /// <summary>Theorem 3's instance: ReLU gates, T coordinates each (one per SA-GD step), d = 2^n T + 1.</summary>
    public static FlatMinimaConstruction Theorem3(int sampleSize, int steps, double flatness) => new(ScoGate.Relu, sampleSize, steps, flatness);

    public ScoGate Gate { get; }
    /// <summary>n: the training-set size the instance is built for.</summary>
    public int SampleSize { get; }
    /// <summary>G = 2^n.</summary>
    public int Gates { get; }
    /// <summary>B: coordinates per gate.</summary>
    public int BlockSize { get; }
    /// <summary>rho: the loss is zero on the ball of this radius around each of its minimisers.</summary>
    public double Flatness { get; }
    /// <summary>G B + 1; the last coordinate is the extra one, d.</summary>
    public int Dimension { get; }
    /// <summary>The index of the extra coordinate d.</summary>
    public int Extra => Dimension - 1;

    /// <summary>The index of coordinate j (0-based) of gate i's block.</summary>
    public int Coordinate(int gate, int position) => gate * BlockSize + position;

    /// <summary>g(z, x): z x^2 (quadratic gate) or [z x]_+^2 (ReLU gate).</summary>
    private double GateTerm(sbyte z, double x)
    {
        if (Gate == ScoGate.Quadratic) return z * x * x;
        double active = Math.Max(z * x, 0);
        return active * active;
    }

    /// <summary>q_z(w) = sum over gates and their blocks of g(z(i), w) + w(d)^2.</summary>
    public double GatedSquaredNorm(IReadOnlyList<double> w, IReadOnlyList<sbyte> z)
    {
        Check(w, z);
        double q = w[Extra] * w[Extra];
        for (int i = 0; i < Gates; i++)
        {
            sbyte zi = z[i];
            if (Gate == ScoGate.Quadratic && zi == 0) continue;
            for (int j = 0, c = i * BlockSize; j < BlockSize; j++, c++)
                if (w[c] != 0) q += GateTerm(zi, w[c]);
        }
        return q;
    }

    /// <summary>f(w, z) = 1/2 [sqrt(q_z(w)) - rho]_+^2.</summary>
    public double Loss(IReadOnlyList<double> w, IReadOnlyList<sbyte> z) => Outer(Math.Sqrt(GatedSquaredNorm(w, z)));

    private double Outer(double s) => s > Flatness ? 0.5 * (s - Flatness) * (s - Flatness) : 0;

    /// <summary>grad f(w, z) = (1 - rho/s) u where s = sqrt(q) &gt; rho (u = grad(q)/2), else 0.</summary>
    public double[] Gradient(IReadOnlyList<double> w, IReadOnlyList<sbyte> z)
    {
        var g = new double[Dimension];
        AddGradient(g, w, z, 1);
        return g;
    }

    private void AddGradient(double[] into, IReadOnlyList<double> w, IReadOnlyList<sbyte> z, double weight)
    {
        double s = Math.Sqrt(GatedSquaredNorm(w, z));
        if (!(s > Flatness)) return;
        double c = weight * (1 - Flatness / s);
        into[Extra] += c * w[Extra];
        for (int i = 0; i < Gates; i++)
        {
            sbyte zi = z[i];
            if (zi == 0) continue;
            for (int j = 0, k = i * BlockSize; j < BlockSize; j++, k++)
            {
                double x = w[k];
                if (x == 0) continue;
                // u = z x (quadratic) or z [z x]_+ (ReLU).
                double u = Gate == ScoGate.Quadratic ? zi * x : zi * Math.Max(zi * x, 0);
                into[k] += c * u;
            }
        }
    }

    /// <summary>F_S(w): the mean loss over the sample.</summary>
    public double EmpiricalRisk(IReadOnlyList<double> w, IReadOnlyList<sbyte[]> sample)
    {
        CheckSample(sample);
        double sum = 0;
        foreach (var z in sample) sum += Loss(w, z);
        return sum / sample.Count;
    }

    /// <summary>grad F_S(w): the mean gradient over the sample.</summary>
    public double[] EmpiricalGradient(IReadOnlyList<double> w, IReadOnlyList<sbyte[]> sample)
    {
        CheckSample(sample);
        var g = new double[Dimension];
        foreach (var z in sample) AddGradient(g, w, z, 1.0 / sample.Count);
        return g;
    }

    /// <summary>
    /// The closed-form Hessian of F_S at w (dense, row-major d x d): the mean over the sample of
    /// (rho/s^3) u u^T + (1 - rho/s) Gm where s &gt; rho, 0 where s &lt; rho. A sample with s = rho exactly (a kink:
    /// no Hessian exists) is refused. For small instances (tests).
    /// </summary>
    public double[,] EmpiricalHessian(IReadOnlyList<double> w, IReadOnlyList<sbyte[]> sample)
    {
        CheckSample(sample);
        if (Dimension > 5000) throw new ArgumentException($"Refusing a dense {Dimension} x {Dimension} Hessian.");
        var h = new double[Dimension, Dimension];
        foreach (var z in sample)
        {
            double s = Math.Sqrt(GatedSquaredNorm(w, z));
            if (s == Flatness) throw new ArgumentException($"sqrt(q_z(w)) = rho = {Flatness} for a sample: the loss has no Hessian there.");
            if (s < Flatness) continue;
            var u = new double[Dimension];
            var diagonal = new double[Dimension];
            u[Extra] = w[Extra]; diagonal[Extra] = 1;
            for (int i = 0; i < Gates; i++)
                for (int j = 0, k = i * BlockSize; j < BlockSize; j++, k++)
                    (u[k], diagonal[k]) = Gate == ScoGate.Quadratic ? (z[i] * w[k], z[i]) : z[i] * w[k] > 0 ? (w[k], 1.0) : (0.0, 0.0);
            double a = Flatness / (s * s * s) / sample.Count, b = (1 - Flatness / s) / sample.Count;
            for (int r = 0; r < Dimension; r++)
            {
                h[r, r] += b * diagonal[r];
                if (u[r] == 0) continue;
                for (int c = 0; c < Dimension; c++) h[r, c] += a * u[r] * u[c];
            }
        }
        return h;
    }

    /// <summary>
    /// F_S as a float64 autograd objective of the parameter tensor <paramref name="w"/> (length d, requires grad), for the
    /// suite's Hessian operators: 1/2 (sqrt(max(q, rho^2)) - rho)^2 per sample, which equals f and whose derivatives are
    /// finite where q = 0 (sqrt is evaluated at rho^2 &gt; 0 there). Needs rho &gt; 0. At q = rho^2 exactly autograd's
    /// clamp passes the gradient, so the Hessian it returns there is the outer limit (the true one does not exist).
    /// </summary>
    public FunctionObjective EmpiricalObjective(Tensor w, IReadOnlyList<sbyte[]> sample)
    {
        ArgumentNullException.ThrowIfNull(w);
        CheckSample(sample);
        if (!(Flatness > 0)) throw new ArgumentException("The autograd objective needs rho > 0 (sqrt has no derivative at 0).");
        if (w.dim() != 1 || w.shape[0] != Dimension) throw new ArgumentException($"w must be a vector of length {Dimension}.", nameof(w));
        // Gates per sample, expanded over their blocks: [n, G B].
        var gates = sample.Select(z => z.SelectMany(v => Enumerable.Repeat((double)v, BlockSize)).ToArray()).ToArray();
        var zt = tensor(gates.SelectMany(x => x).ToArray(), new long[] { sample.Count, Gates * BlockSize }, dtype: ScalarType.Float64, device: w.device);
        double rho = Flatness;
        return new FunctionObjective([w], () =>
        {
            var body = w.narrow(0, 0, Gates * BlockSize).unsqueeze(0);
            var terms = Gate == ScoGate.Quadratic ? zt * body.square() : nn.functional.relu(zt * body).square();
            var q = terms.sum(1) + w[Extra].square();
            var s = q.clamp_min(rho * rho).sqrt();
            return (0.5 * (s - rho).square()).mean();
        });
    }

    /// <summary>
    /// The exact population risk F(w) = E_z f(w, z): only gates whose block has a non-zero coordinate change the loss,
    /// so F is the average of f over the 2^k equally likely values of those k gates (each z(i) is uniform on its two
    /// values, independently); refused above <see cref="MaxExactGates"/> active gates.
    /// </summary>
    public double PopulationRisk(IReadOnlyList<double> w)
    {
        Check(w, null);
        var active = Enumerable.Range(0, Gates).Where(i => Enumerable.Range(0, BlockSize).Any(j => w[Coordinate(i, j)] != 0)).ToArray();
        if (active.Length > MaxExactGates) throw new ArgumentException($"{active.Length} gates are active at w; the exact population risk enumerates at most 2^{MaxExactGates} of their values.");
        sbyte low = Gate == ScoGate.Quadratic ? (sbyte)0 : (sbyte)-1;
        // The contribution of each active gate at each of its two values.
        var terms = active.Select(i => new[] { low, (sbyte)1 }.Select(v => Enumerable.Range(0, BlockSize).Sum(j => w[Coordinate(i, j)] is var x && x != 0 ? GateTerm(v, x) : 0)).ToArray()).ToArray();
        double extra = w[Extra] * w[Extra], sum = 0;
        long outcomes = 1L << active.Length;
        for (long m = 0; m < outcomes; m++)
        {
            double q = extra;
            for (int a = 0; a < active.Length; a++) q += terms[a][(m >> a) & 1];
            sum += Outer(Math.Sqrt(q));
        }
        return sum / outcomes;
    }

    /// <summary>A Monte Carlo estimate of F(w) from <paramref name="draws"/> fresh samples z (every gate drawn), with its
    /// standard error (sample standard deviation / sqrt(draws)): the independent check of <see cref="PopulationRisk"/>.</summary>
    public (double Mean, double StandardError) MonteCarloPopulationRisk(IReadOnlyList<double> w, int draws, Generator generator)
    {
        if (draws < 2) throw new ArgumentOutOfRangeException(nameof(draws), "At least two draws.");
        var zs = Draw(draws, generator);
        double sum = 0, sumSquares = 0;
        foreach (var z in zs) { double f = Loss(w, z); sum += f; sumSquares += f * f; }
        double mean = sum / draws;
        double variance = Math.Max(sumSquares / draws - mean * mean, 0) * draws / (draws - 1);
        return (mean, Math.Sqrt(variance / draws));
    }

    /// <summary><paramref name="count"/> i.i.d. draws of z from the instance's distribution (uniform on {0,1}^G or
    /// {-1,1}^G), from the CPU generator given (deterministic for its seed).</summary>
    public sbyte[][] Draw(int count, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var scope = NewDisposeScope();
        var bits = Runtime.Devices.HostRead.ToArray<sbyte>(randint(0, 2, new long[] { count, Gates }, dtype: ScalarType.Int8, generator: generator));
        var result = new sbyte[count][];
        for (int k = 0; k < count; k++)
        {
            result[k] = new sbyte[Gates];
            for (int i = 0; i < Gates; i++) result[k][i] = Gate == ScoGate.Quadratic ? bits[k * Gates + i] : (sbyte)(2 * bits[k * Gates + i] - 1);
        }
        return result;
    }

    /// <summary>
    /// A training set of n = <see cref="SampleSize"/> draws conditioned on the theorem's event: redrawn until some gate
    /// is 0 in every sample (quadratic gate, Theorem 1) or 1 in every sample (ReLU gate, Theorem 3). Each attempt succeeds
    /// with probability 1 - (1 - 2^-n)^(2^n) &gt; 1 - 1/e, so this is sampling S given the event; the attempts are returned.
    /// </summary>
    public (sbyte[][] Sample, int Gate, int Attempts) DrawConditionedSample(Generator generator, int maxAttempts = 1000)
    {
        for (int attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var sample = Draw(SampleSize, generator);
            if (EventGate(sample) is { } gate) return (sample, gate, attempt);
        }
        throw new InvalidOperationException($"No training set with the theorem's event in {maxAttempts} attempts.");
    }

    /// <summary>The first gate I with z(I) = 0 (quadratic) or z(I) = 1 (ReLU) in every sample, or null.</summary>
    public int? EventGate(IReadOnlyList<sbyte[]> sample)
    {
        CheckSample(sample);
        sbyte wanted = Gate == ScoGate.Quadratic ? (sbyte)0 : (sbyte)1;
        for (int i = 0; i < Gates; i++)
            if (sample.All(z => z[i] == wanted)) return i;
        return null;
    }

    /// <summary>Theorem 1's flat minimiser e_I (I: a gate that is 0 in every training sample).</summary>
    public double[] FlatMinimiser(IReadOnlyList<sbyte[]> sample)
    {
        if (Gate != ScoGate.Quadratic) throw new InvalidOperationException("The flat minimiser e_I is Theorem 1's (quadratic gates).");
        int gate = EventGate(sample) ?? throw new ArgumentException("No gate is 0 in every training sample: Theorem 1's flat minimiser does not exist for this sample.");
        var w = new double[Dimension];
        w[Coordinate(gate, 0)] = 1;
        return w;
    }

    /// <summary>Theorem 1's sharp minimiser rho e_d.</summary>
    public double[] SharpMinimiser()
    {
        var w = new double[Dimension];
        w[Extra] = Flatness;
        return w;
    }

    /// <summary>
    /// Bounds on the sharpness-aware empirical risk F_S^r(w) = max over ||v|| &lt;= r of F_S(w + v).
    /// Upper: sqrt(q_z) is a seminorm of w for the quadratic gate, and for the ReLU gate [a + b]_+ &lt;= [a]_+ + [b]_+
    /// entrywise, so in both sqrt(q_z(w + v)) &lt;= sqrt(q_z(w)) + ||v|| and F_S^r(w) &lt;= mean_z 1/2 [sqrt(q_z(w)) + r - rho]_+^2.
    /// Lower: the perturbation v = r sign(w(d)) e_d (sign +1 at 0) gives q_z(w + v) = q_z(w) - w(d)^2 + (|w(d)| + r)^2.
    /// They coincide (the value is exact) when every sample's gated part vanishes at w (q_z(w) = w(d)^2), e.g. at the
    /// paper's minimisers and SA-GD iterates: F_S^r(w) = 1/2 [|w(d)| + r - rho]_+^2.
    /// </summary>
    public (double Lower, double Upper) SharpnessAwareRiskBounds(IReadOnlyList<double> w, double radius, IReadOnlyList<sbyte[]> sample)
    {
        CheckSample(sample);
        if (!(radius >= 0) || !double.IsFinite(radius)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The radius r must be finite and non-negative.");
        double lower = 0, upper = 0, wd = w[Extra];
        foreach (var z in sample)
        {
            double q = GatedSquaredNorm(w, z);
            upper += Outer(Math.Sqrt(q) + radius);
            double shifted = Math.Abs(wd) + radius;
            lower += Outer(Math.Sqrt(Math.Max(q - wd * wd, 0) + shifted * shifted));
        }
        return (lower / sample.Count, upper / sample.Count);
    }

    /// <summary>F_S^r(w) where <see cref="SharpnessAwareRiskBounds"/> is exact; otherwise the suite's error.</summary>
    public double SharpnessAwareRisk(IReadOnlyList<double> w, double radius, IReadOnlyList<sbyte[]> sample)
    {
        var (lower, upper) = SharpnessAwareRiskBounds(w, radius, sample);
        if (upper - lower > 1e-12 * Math.Max(upper, 1e-300)) throw new ArgumentException($"F_S^r(w) is only bracketed at this point: [{lower}, {upper}].");
        return upper;
    }

    /// <summary>The output of <see cref="SharpnessAwareGradientDescent"/>.</summary>
    /// <param name="Iterates">w_1 .. w_T (w_1 = 0), the points whose suffix averages Theorem 3 bounds.</param>
    /// <param name="Gate">The gate I that is 1 in every training sample.</param>
    /// <param name="CertificateGap">The largest (upper bound - F_S(w_t + v_t)) over the steps: 0 certifies every v_t a maximiser.</param>
    public sealed record SharpnessAwareRun(IReadOnlyList<double[]> Iterates, int Gate, double CertificateGap)
    {
        /// <summary>The suffix average (1/(T - tau + 1)) sum_{t = tau}^T w_t, tau 1-based.</summary>
        public double[] SuffixAverage(int tau)
        {
            int steps = Iterates.Count;
            if (tau < 1 || tau > steps) throw new ArgumentOutOfRangeException(nameof(tau), tau, $"tau must be in [1, {steps}].");
            var average = new double[Iterates[0].Length];
            for (int t = tau - 1; t < steps; t++)
                for (int k = 0; k < average.Length; k++) average[k] += Iterates[t][k];
            for (int k = 0; k < average.Length; k++) average[k] /= steps - tau + 1;
            return average;
        }

        /// <summary>Every suffix average, tau = 1 .. T (index tau - 1), from running sums taken from the end.</summary>
        public IReadOnlyList<double[]> SuffixAverages()
        {
            int steps = Iterates.Count, d = Iterates[0].Length;
            var result = new double[steps][];
            var sum = new double[d];
            for (int t = steps - 1; t >= 0; t--)
            {
                for (int k = 0; k < d; k++) sum[k] += Iterates[t][k];
                result[t] = new double[d];
                for (int k = 0; k < d; k++) result[t][k] = sum[k] / (steps - t);
            }
            return result;
        }
    }

    /// <summary>
    /// SA-GD as the paper defines it (its eq. "gd_update_rule"): w_{t+1} = w_t - eta grad F_S(w_t + v_t) with
    /// v_t in argmax over ||v|| &lt;= r of F_S(w_t + v), from w_1 = 0, iterates w_1 .. w_T. The argmax is a set; v_t is chosen
    /// by the paper's oracle in the proof of Theorem 3, r e_(I,t) (a fresh coordinate of the gate I that is 1 in every
    /// training sample), and certified a maximiser at every step: F_S(w_t + v_t) must equal the upper bound of
    /// <see cref="SharpnessAwareRiskBounds"/> (relative 1e-12), else the run is refused. Needs the ReLU instance with
    /// block size at least T.
    /// </summary>
    public SharpnessAwareRun SharpnessAwareGradientDescent(IReadOnlyList<sbyte[]> sample, double stepSize, double radius, int steps)
    {
        if (Gate != ScoGate.Relu) throw new InvalidOperationException("SA-GD's hard instance is Theorem 3's (ReLU gates).");
        if (steps < 1 || steps > BlockSize) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"T must be in [1, {BlockSize}] (one coordinate of gate I per step).");
        if (!(stepSize > 0) || !double.IsFinite(stepSize)) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be positive and finite.");
        int gate = EventGate(sample) ?? throw new ArgumentException("No gate is 1 in every training sample: Theorem 3's event did not occur for this sample.");
        var iterates = new List<double[]> { new double[Dimension] };
        double gap = 0;
        for (int t = 1; t < steps; t++)
        {
            var w = iterates[^1];
            var perturbed = (double[])w.Clone();
            perturbed[Coordinate(gate, t - 1)] += radius;
            double attained = EmpiricalRisk(perturbed, sample);
            double upper = SharpnessAwareRiskBounds(w, radius, sample).Upper;
            if (upper - attained > 1e-12 * Math.Max(upper, 1e-300))
                throw new InvalidOperationException($"Step {t}: the oracle's v_t attains F_S = {attained} below the bound {upper}; it is not certified a maximiser.");
            gap = Math.Max(gap, upper - attained);
            var g = EmpiricalGradient(perturbed, sample);
            var next = new double[Dimension];
            for (int k = 0; k < Dimension; k++) next[k] = w[k] - stepSize * g[k];
            iterates.Add(next);
        }
        return new SharpnessAwareRun(iterates, gate, gap);
    }

    private void Check(IReadOnlyList<double> w, IReadOnlyList<sbyte>? z)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (w.Count != Dimension) throw new ArgumentException($"w has {w.Count} coordinates; the instance has {Dimension}.", nameof(w));
        if (z is not null && z.Count != Gates) throw new ArgumentException($"z has {z.Count} gates; the instance has {Gates}.", nameof(z));
    }

    private void CheckSample(IReadOnlyList<sbyte[]> sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Count == 0) throw new ArgumentException("An empty training set.", nameof(sample));
        foreach (var z in sample)
            if (z.Length != Gates) throw new ArgumentException($"A sample has {z.Length} gates; the instance has {Gates}.", nameof(sample));
    }
}
