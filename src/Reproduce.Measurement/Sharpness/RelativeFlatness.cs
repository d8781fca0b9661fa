using Reproduce.Measurement.Hessian;
using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Sharpness;

/// <summary>How per-batch values combine: the mean over all samples (default), or the paper's code's sum of per-batch values.</summary>
public enum BatchReduction { Mean, SumOverBatches }

public sealed record RelativeFlatnessResult(double Value, bool FeatureNormalised, BatchReduction Reduction, int Batches, long Samples);

/// <summary>
/// Relative flatness (Petzka et al. 2021) of the classifier layer, cross-entropy loss:
///   kappa = sum_{s,s'} &lt;w_s, w_s'&gt; Tr(H_{s,s'}),
/// w_s the rows of the classifier weight W (K x m), H_{s,s'} the (m x m) Hessian blocks of the loss w.r.t. W.
/// Closed form: with logits z = W phi + b and p = softmax(z), the per-sample Hessian is A_i kron phi_i phi_i^T with
/// A_i = diag(p_i) - p_i p_i^T, so Tr(H_{s,s'}) = mean_i A_i[s,s'] ||phi_i||^2 and
///   kappa = mean_i ||phi_i||^2 &lt;W W^T, A_i&gt;_F,
/// one pass over the data, no loop over weight entries.
/// Feature normalisation (the paper's code, on by default): phi_j -> phi_j / sigma_j and W[:, j] -> W[:, j] sigma_j,
/// sigma_j the standard deviation of feature j over the measured data (population form; sigma_j = 0 is left
/// unscaled). The logits, hence A_i, do not change, so this is computed without touching the model (the paper's
/// code mutates it in place).
/// The paper's code computes kappa per batch (batch-mean loss) and SUMS over batches, so its value grows with the
/// number of batches; <see cref="BatchReduction.SumOverBatches"/> reproduces that, the default is the mean.
/// </summary>
public sealed class RelativeFlatness
{
    public bool NormaliseFeatures { get; init; } = true;
    public BatchReduction Reduction { get; init; } = BatchReduction.Mean;

    public RelativeFlatnessResult Compute(IFeatureModel model, IBatchSource data)
    {
        if (data.BatchCount == 0 || data.SampleCount == 0) throw new ArgumentException("Relative flatness needs data; the source is empty.");
        var network = model.Network;
        var device = ParameterPlacement.Of(network).Device;
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var features = new List<Tensor>();
            var probabilities = new List<Tensor>();
            var sizes = new List<long>();
            for (int b = 0; b < data.BatchCount; b++)
            {
                var x = data.GetBatch(b, device).Inputs;
                // One forward pass: logits = phi W^T + b from the features (the IFeatureModel contract).
                var phiBatch = model.Features(x);
                var logits = nn.functional.linear(phiBatch, model.ClassifierWeight.detach(), model.ClassifierBias?.detach());
                features.Add(phiBatch.to(ScalarType.Float64));
                probabilities.Add(logits.to(ScalarType.Float64).softmax(1));
                sizes.Add(x.shape[0]);
            }
            var phi = cat(features, 0);
            var w = model.ClassifierWeight.detach().to(ScalarType.Float64);
            if (phi.shape[1] != w.shape[1]) throw new ArgumentException($"Features have {phi.shape[1]} entries but the classifier weight is [{string.Join(", ", w.shape)}].");
            if (NormaliseFeatures)
            {
                var sigma = phi.std(0, unbiased: false);
                sigma = where(sigma.gt(0), sigma, ones_like(sigma));
                phi = phi / sigma;
                w = w * sigma;
            }
            var perSample = PerSample(phi, cat(probabilities, 0), w);
            if (!perSample.isfinite().all().item<bool>()) throw new NonFiniteValueException("Relative flatness is not finite.");
            double value;
            if (Reduction == BatchReduction.Mean) value = perSample.mean().item<double>();
            else
            {
                value = 0; long start = 0;
                foreach (var n in sizes) { value += perSample.narrow(0, start, n).mean().item<double>(); start += n; }
            }
            return new RelativeFlatnessResult(value, NormaliseFeatures, Reduction, data.BatchCount, data.SampleCount);
        }
        finally { if (wasTraining) network.train(); }
    }

    /// <summary>||phi_i||^2 &lt;G, diag(p_i) - p_i p_i^T&gt;_F with G = W W^T, for every sample i.</summary>
    internal static Tensor PerSample(Tensor phi, Tensor p, Tensor w)
    {
        var g = w.mm(w.t());
        // <G, diag(p)> = sum_s G_ss p_s ; <G, p p^T> = p^T G p.
        var diagTerm = p.mv(g.diagonal());
        var quadratic = (p.mm(g) * p).sum(1);
        return phi.square().sum(1) * (diagTerm - quadratic);
    }
}
