using TorchSharp;
using Reproduce.Runtime.Devices;
using static TorchSharp.torch;

namespace Reproduce.Measurement.Safety;

public enum CalibrationBinning { EqualWidth, EqualMass }

public sealed record CalibrationBin(double Lower, double Upper, long Count, double Accuracy, double Confidence);

public sealed record EceResult(double Value, CalibrationBinning Binning, IReadOnlyList<CalibrationBin> Bins);

/// <summary>
/// Top-label expected calibration error, L1: ECE = sum_b (n_b / N) |acc_b - conf_b|, with conf the largest class
/// probability and acc whether that class is the label. Equal-width binning is the torchmetrics convention the
/// paper uses (15 bins on [0, 1], bin b = [b/15, (b+1)/15), confidence 1 in the last bin); equal-mass binning puts
/// N/B samples (by sorted confidence) in each bin, which is less sensitive to empty bins.
/// </summary>
public sealed class ExpectedCalibrationError
{
    public int Bins { get; init; } = 15;
    public CalibrationBinning Binning { get; init; } = CalibrationBinning.EqualWidth;

    public EceResult Compute(Predictions p)
    {
        if (Bins < 1) throw new ArgumentOutOfRangeException(nameof(Bins), Bins, "ECE needs at least one bin.");
        double[] confidence, correct;
        using (var scope = NewDisposeScope())
        {
            var (values, indices) = p.Probabilities.max(1);
            confidence = HostRead.ToArray<double>(values);
            correct = HostRead.ToArray<double>(indices.eq(p.Labels).to(ScalarType.Float64));
        }
        int n = confidence.Length;
        var assignment = new int[n];
        if (Binning == CalibrationBinning.EqualWidth)
        {
            for (int i = 0; i < n; i++) assignment[i] = Math.Clamp((int)Math.Floor(confidence[i] * Bins), 0, Bins - 1);
        }
        else
        {
            // Stable sort by confidence, ties by index, so the result does not depend on sample order except through ties.
            var order = Enumerable.Range(0, n).OrderBy(i => confidence[i]).ThenBy(i => i).ToArray();
            for (int r = 0; r < n; r++) assignment[order[r]] = (int)((long)r * Bins / n);
        }
        var bins = new List<CalibrationBin>();
        double ece = 0;
        for (int b = 0; b < Bins; b++)
        {
            long count = 0; double acc = 0, conf = 0, lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int i = 0; i < n; i++)
                if (assignment[i] == b) { count++; acc += correct[i]; conf += confidence[i]; lo = Math.Min(lo, confidence[i]); hi = Math.Max(hi, confidence[i]); }
            if (Binning == CalibrationBinning.EqualWidth) { lo = (double)b / Bins; hi = (double)(b + 1) / Bins; }
            if (count == 0) { bins.Add(new CalibrationBin(lo, hi, 0, double.NaN, double.NaN)); continue; }
            acc /= count; conf /= count;
            ece += (double)count / n * Math.Abs(acc - conf);
            bins.Add(new CalibrationBin(lo, hi, count, acc, conf));
        }
        return new EceResult(ece, Binning, bins);
    }
}
