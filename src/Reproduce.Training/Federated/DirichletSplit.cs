namespace Reproduce.Training.Federated;

/// <summary>
/// The non-IID client split of Hsu, Qi and Brown 2019 (arXiv 1909.06335), used by Caldarola et al. (their repository
/// ships the built splits, not the generator): for each client k in turn, draw class proportions q_k ~ Dir(alpha p),
/// p the uniform class prior over the labels 0 .. classes - 1, then fill the client's n samples one at a time: draw a
/// class c ~ q_k and take the next unused sample of that class (each class's samples in a seeded random order), so
/// samples are drawn without replacement and the clients are disjoint.
/// A class runs out when earlier clients have taken all its samples (the pool holds exactly K x n samples at most, and
/// small alpha concentrates several clients on one class): it is removed, and q_k is renormalised over the classes
/// that still have samples, q_c / sum of q over the remaining classes. The Gamma draws behind q_k are kept in logs, so
/// the renormalised proportions are exact even where q_k put all but e^-745 of its mass on exhausted classes (for
/// alpha 0.05 most q_c underflow to 0 in linear scale). The last clients then get what the earlier ones left.
/// α → 0 gives one class per client (while that class lasts); large α gives nearly the pool's class mix.
/// </summary>
public static class DirichletSplit
{
    /// <summary>log q ~ Dir(concentration), as log-proportions (logsumexp = 0): Gamma draws normalised in logs.</summary>
    public static double[] LogDirichlet(IReadOnlyList<double> concentration, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (concentration.Count == 0) throw new ArgumentException("A Dirichlet needs at least one component.", nameof(concentration));
        var log = concentration.Select(random.NextLogGamma).ToArray();
        double total = LogSumExp(log, _ => true);
        for (int c = 0; c < log.Length; c++) log[c] -= total;
        return log;
    }

    /// <summary>q ~ Dir(concentration): mean a_c / sum a, variance p_c (1 - p_c) / (sum a + 1) with p_c = a_c / sum a.</summary>
    public static double[] Dirichlet(IReadOnlyList<double> concentration, SplitMix64 random) =>
        [.. LogDirichlet(concentration, random).Select(Math.Exp)];

    /// <summary>
    /// The clients' sample indices into <paramref name="labels"/> (each client's in draw order): <paramref name="clients"/>
    /// disjoint lists of <paramref name="clientSize"/> indices, drawn as the class summary says, from a generator seeded
    /// with <paramref name="seed"/> (the same arguments give the same split).
    /// </summary>
    public static int[][] Split(IReadOnlyList<long> labels, int classes, int clients, int clientSize, double alpha, long seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "The split needs at least one class.");
        if (clients < 1 || clientSize < 1) throw new ArgumentOutOfRangeException(nameof(clients), "The split needs at least one client of at least one sample.");
        if (!(alpha > 0 && double.IsFinite(alpha))) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The Dirichlet concentration must be positive and finite.");
        if ((long)clients * clientSize > labels.Count)
            throw new ArgumentException($"{clients} clients of {clientSize} samples need {(long)clients * clientSize}; the pool holds {labels.Count}.");
        var random = new SplitMix64((ulong)seed);
        var byClass = Enumerable.Range(0, classes).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] < 0 || labels[i] >= classes) throw new ArgumentException($"Label {labels[i]} of sample {i} is outside 0 .. {classes - 1}.", nameof(labels));
            byClass[labels[i]].Add(i);
        }
        // Each class's samples in a seeded random order (Fisher-Yates), taken from the front.
        foreach (var members in byClass)
            for (int i = members.Count - 1; i > 0; i--)
            {
                int j = random.NextInt(i + 1);
                (members[i], members[j]) = (members[j], members[i]);
            }
        var next = new int[classes];
        var prior = Enumerable.Repeat(alpha / classes, classes).ToArray();
        var split = new int[clients][];
        for (int k = 0; k < clients; k++)
        {
            var logQ = LogDirichlet(prior, random);
            var client = new int[clientSize];
            for (int i = 0; i < clientSize; i++)
            {
                int c = DrawRemaining(logQ, c => next[c] < byClass[c].Count, random);
                client[i] = byClass[c][next[c]++];
            }
            split[k] = client;
        }
        return split;
    }

    /// <summary>A class drawn with probability q_c / sum of q over the classes that <paramref name="available"/> admits,
    /// computed as exp(log q_c - logsumexp over those classes) so that it is defined whatever the linear-scale underflow.</summary>
    private static int DrawRemaining(double[] logQ, Func<int, bool> available, SplitMix64 random)
    {
        double total = LogSumExp(logQ, available);
        if (double.IsNegativeInfinity(total)) throw new InvalidOperationException("No class has samples left (the pool size was checked; this is a bug).");
        double u = random.NextDouble(), cumulative = 0;
        int last = -1;
        for (int c = 0; c < logQ.Length; c++)
        {
            if (!available(c)) continue;
            last = c;
            cumulative += Math.Exp(logQ[c] - total);
            if (u < cumulative) return c;
        }
        return last; // u beyond the rounded cumulative sum (1 - 1e-16): the last available class.
    }

    private static double LogSumExp(double[] log, Func<int, bool> include)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < log.Length; c++) if (include(c)) max = Math.Max(max, log[c]);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        for (int c = 0; c < log.Length; c++) if (include(c)) sum += Math.Exp(log[c] - max);
        return max + Math.Log(sum);
    }
}
