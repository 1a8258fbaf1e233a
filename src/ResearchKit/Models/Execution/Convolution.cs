using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Models.Execution;

/// <summary>
/// A 2-D convolution's geometry: everything that decides which kernel libtorch picks, and whether it is right.
/// </summary>
public sealed record ConvolutionShape(long InChannels, long OutChannels, long KernelHeight, long KernelWidth,
    long Stride, long Padding, long Dilation, long Groups, long Height, long Width)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{InChannels}→{OutChannels} {KernelHeight}x{KernelWidth}/{Stride} pad {Padding} dil {Dilation} groups {Groups} at {Height}x{Width}";
}

/// <summary>How one convolution departs from its model's execution mode so that oneDNN computes it correctly.</summary>
/// <param name="PadIn">Zero input channels added.</param>
/// <param name="PadOut">Zero output channels added (dropped again from the result).</param>
/// <param name="Contiguous">Runs in NCHW layout although the model runs channels-last.</param>
/// <param name="Pointwise">A 1×1 convolution computed as a matrix product over channels.</param>
/// <param name="Reference">Runs on libtorch's reference kernels, forward and backward, with oneDNN off for this
/// convolution only: what a shape gets when no oneDNN variant is correct here (or its audit crashed).</param>
public readonly record struct ConvolutionVariant(long PadIn, long PadOut, bool Contiguous, bool Pointwise = false, bool Reference = false)
{
    /// <summary>The variant of 1×1 convolutions in oneDNN modes.</summary>
    public static ConvolutionVariant MatrixProduct { get; } = new(0, 0, false, true);

    /// <summary>The variant of shapes oneDNN cannot compute correctly here: libtorch's reference kernels.</summary>
    public static ConvolutionVariant ReferenceKernels { get; } = new(0, 0, false, Reference: true);

    /// <summary>True when the convolution runs as the mode says.</summary>
    public bool IsPlain => PadIn == 0 && PadOut == 0 && !Contiguous && !Pointwise && !Reference;

    /// <inheritdoc/>
    public override string ToString() => IsPlain ? "as is" : string.Join(", ", new[]
    {
        PadIn + PadOut > 0 ? $"channels padded +{PadIn} in, +{PadOut} out" : null,
        Contiguous ? "NCHW layout" : null,
        Pointwise ? "as a matrix product" : null,
        Reference ? "on the reference kernels" : null,
    }.OfType<string>());
}

/// <summary>
/// Runs a 2-D convolution the way a model's <see cref="ExecutionMode"/> asks, with the channel counts optionally
/// padded with zeros (zero weights and zero inputs add nothing, so the result is the same convolution; the padded
/// shape is one oneDNN computes correctly where the original is not).
/// </summary>
public static class Convolution
{
    /// <summary>
    /// Convolves <paramref name="x"/> with weights already adapted to <paramref name="variant"/>: pads
    /// <paramref name="x"/> with the variant's zero input channels, drops its padded outputs, and runs in the
    /// contiguous (NCHW) layout when the variant says so.
    /// </summary>
    public static Tensor Run(Tensor x, Tensor weight, Tensor? bias, long[] strides, long[] padding, long[] dilations,
        long groups, ConvolutionVariant variant = default)
    {
        var (padIn, padOut, contiguous, pointwise, reference) = variant;
        if (pointwise) return Pointwise(x, weight, bias, strides);
        if (reference) return ReferenceConvolution.Run(x, weight, bias, strides, padding, dilations, groups);
        if (contiguous) x = x.contiguous();
        if (padIn > 0) x = F.pad(x, [0, 0, 0, 0, 0, padIn]);
        var y = F.conv2d(x, weight, bias, strides, padding, dilations, groups);
        return padOut > 0 ? y.narrow(1, 0, weight.shape[0] - padOut) : y;
    }

    // A 1×1 convolution is a product of each position's channel vector with the weight matrix; in channels-last
    // layout the permutes are views, and the product runs in BLAS rather than in oneDNN's 1×1 kernels.
    static Tensor Pointwise(Tensor x, Tensor weight, Tensor? bias, long[] strides)
    {
        if (strides.Any(s => s != 1))
            x = x[.., .., TensorIndex.Slice(null, null, strides[0]), TensorIndex.Slice(null, null, strides[1])];
        var y = matmul(x.permute(0, 2, 3, 1), weight.flatten(1).t());
        if (bias is not null) y = y + bias;
        return y.permute(0, 3, 1, 2);
    }

    /// <summary>Adapts a weight [Cout, Cin, kh, kw] (and its bias) to a variant: zero channels and memory layout.</summary>
    public static (Tensor Weight, Tensor? Bias) Adapt(Tensor weight, Tensor? bias, ConvolutionVariant variant, bool channelsLast)
    {
        var (padIn, padOut, contiguous, _, _) = variant;
        var w = padIn > 0 || padOut > 0 ? F.pad(weight, [0, 0, 0, 0, 0, padIn, 0, padOut]) : weight;
        var b = bias is not null && padOut > 0 ? F.pad(bias, [0, padOut]) : bias;
        return (channelsLast && !contiguous ? ChannelsLast(w) : w.contiguous(), b);
    }

    /// <summary>
    /// A convolution with oneDNN off for its forward pass and its input gradient, whatever the surrounding scope says.
    /// libtorch picks its backward kernel when the backward pass runs, so switching oneDNN off around the forward call
    /// alone would not do: the backward pass is written out here, as the transposed convolution of the output gradient.
    /// The weights are constants (no weight gradient).
    /// </summary>
    sealed class ReferenceConvolution : autograd.SingleTensorFunction<ReferenceConvolution>
    {
        public override string Name => "ReferenceConvolution";

        public static Tensor Run(Tensor x, Tensor weight, Tensor? bias, long[] strides, long[] padding, long[] dilations, long groups) =>
            apply(x, weight.detach(), bias?.detach(), new Geometry(strides, padding, dilations, groups));

        sealed record Geometry(long[] Strides, long[] Padding, long[] Dilations, long Groups);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, weight, bias, g) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor?)vars[2], (Geometry)vars[3]);
            ctx.save_for_backward([weight]);
            ctx.save_data("geometry", g);
            ctx.save_data("input", new[] { x.shape[2], x.shape[3] });
            using (OneDnn.Use(false))
                return F.conv2d(x, weight, bias, g.Strides, g.Padding, g.Dilations, g.Groups);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
        {
            var weight = ctx.get_saved_variables()[0];
            var g = (Geometry)ctx.get_data("geometry");
            var input = (long[])ctx.get_data("input");
            // The transposed convolution's natural output size, and the rows/columns a stride left uncovered.
            long[] outputPadding = [.. Enumerable.Range(0, 2).Select(d =>
                input[d] - ((gradient.shape[2 + d] - 1) * g.Strides[d] - 2 * g.Padding[d] + g.Dilations[d] * (weight.shape[2 + d] - 1) + 1))];
            // One gradient per argument of forward: the input's; none for the constant weights, bias and geometry.
            using (OneDnn.Use(false))
                return [F.conv_transpose2d(gradient, weight, null, g.Strides, g.Padding, outputPadding, g.Dilations, g.Groups), null!, null!, null!];
        }
    }

    /// <summary>Puts a 4-D tensor in channels-last memory layout (same values, NHWC strides).</summary>
    public static Tensor ChannelsLast(Tensor t) => t.dim() == 4 ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t;
}
