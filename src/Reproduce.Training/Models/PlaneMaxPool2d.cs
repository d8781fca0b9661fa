using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>
/// Max pooling (square kernel, stride = kernel, no padding, floor mode: nn.MaxPool2d(k)), found by libtorch's
/// channels-last kernel instead of its NCHW one, because the NCHW kernel is a scalar loop: on LeNet's [50, 6, 28, 28]
/// activations it took 1.5 ms per call at one thread, three times the convolution before it, and with gradients about
/// a fifth of a LeNet training step's CPU time (perf).
/// The (N, C, H, W) input is viewed as one image of N*C planes, [1, N*C, H, W], laid out channels-last
/// ([1, H, W, N*C] in memory), so the kernel vectorises over the N*C planes (the channels-last kernel vectorises over
/// channels, and C = 6 alone fills no vector). Without gradients its output is copied back to the usual layout. With
/// gradients only its argmax is used: the output is the input gathered at it, [N, C, H*W].gather(2, argmax), so
/// autograd routes the gradient through gather (a scatter-add into zeros, each input position receiving at most one
/// gradient since the windows do not overlap) and the double backward through gather again, instead of through
/// max_pool2d's backward (an add into zeros at the argmax) and double backward (a gather at it): the same values,
/// selected, with no arithmetic but a sum with zero in both. A LeNet training step: 5.03 → 3.51 ms at one thread.
/// The result is bit-identical to nn.MaxPool2d(k), in value and in every derivative: both kernels scan each window in
/// the same (row, column) order and keep the first element with val > max (or NaN), so they return the same maximum
/// and the same argmax (within its H x W plane) even on ties (ReLU zeros tie often).
/// (Tests compare outputs, gradients and Hessian-vector products bit for bit with nn.MaxPool2d, in float32 and float64.)
/// </summary>
public sealed class PlaneMaxPool2d : nn.Module<Tensor, Tensor>
{
    public PlaneMaxPool2d(long kernel) : base(nameof(PlaneMaxPool2d))
    {
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The pooling kernel must be at least 1.");
        Kernel = kernel;
    }

    public long Kernel { get; }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"PlaneMaxPool2d needs (N, C, H, W) input; got shape [{string.Join(", ", input.shape)}].", nameof(input));
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        if (!torch.is_grad_enabled())
        {
            using var scope = NewDisposeScope();
            var pooled = nn.functional.max_pool2d(Planes(input), Kernel).contiguous();
            return pooled.reshape(n, c, pooled.shape[2], pooled.shape[3]).MoveToOuterDisposeScope();
        }
        // The argmax of each window (its offset ih * W + iw within the H x W plane), found without gradients.
        Tensor argmax;
        long oh, ow;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var (_, indices) = nn.functional.max_pool2d_with_indices(Planes(input.detach()), [Kernel, Kernel]);
            oh = indices.shape[2];
            ow = indices.shape[3];
            argmax = indices.contiguous().reshape(n, c, oh * ow).MoveToOuterDisposeScope();
        }
        return input.reshape(n, c, h * w).gather(2, argmax).reshape(n, c, oh, ow);
    }

    /// <summary>[N, C, H, W] as [1, N*C, H, W] with strides [H*W*N*C, 1, W*N*C, N*C]: libtorch's suggest_memory_format
    /// reads it as channels-last.</summary>
    private static Tensor Planes(Tensor input)
    {
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        return input.reshape(1, n * c, h, w).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
    }
}
