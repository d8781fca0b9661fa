namespace Reproduce.Measurement.Hessian;

/// <summary>
/// The per-sample losses we differentiate. Both are averaged over all samples of the data source.
/// CrossEntropy: -log softmax(f)_y with integer targets. MeanSquaredError: mean over output entries of
/// (f - y)^2, i.e. PyTorch's MSELoss(reduction="mean") over the whole data set.
/// </summary>
public enum LossKind
{
    CrossEntropy,
    MeanSquaredError,
}
