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
/// <param name="PhaseGradient">A strided convolution over a few input channels (a network's stem) whose input
/// gradient is computed as one stride-1 convolution over the output gradient's many channels, one output channel per
/// colour and stride phase, rather than by oneDNN's backward-data kernel, which has nothing to vectorize along with 3
/// input channels.</param>
public readonly record struct ConvolutionVariant(long PadIn, long PadOut, bool Contiguous, bool Pointwise = false, bool Reference = false,
    bool PhaseGradient = false)
{
    /// <summary>The variant that computes a stem's input gradient by stride phases.</summary>
    public static ConvolutionVariant PhaseGradients { get; } = new(0, 0, false, PhaseGradient: true);

    /// <summary>True for a shape whose input gradient <see cref="PhaseGradient"/> can compute: stride above 1 on a few input channels.</summary>
    public static bool SuitsPhaseGradient(ConvolutionShape s) => s is { Stride: > 1, InChannels: <= 4, Groups: 1, Dilation: 1 };

    /// <summary>The variant of 1×1 convolutions in oneDNN modes.</summary>
    public static ConvolutionVariant MatrixProduct { get; } = new(0, 0, false, true);

    /// <summary>The variant of shapes oneDNN cannot compute correctly here: libtorch's reference kernels.</summary>
    public static ConvolutionVariant ReferenceKernels { get; } = new(0, 0, false, Reference: true);

    /// <summary>True when the convolution runs as the mode says.</summary>
    public bool IsPlain => PadIn == 0 && PadOut == 0 && !Contiguous && !Pointwise && !Reference && !PhaseGradient;

    /// <inheritdoc/>
    public override string ToString() => IsPlain ? "as is" : string.Join(", ", new[]
    {
        PadIn + PadOut > 0 ? $"channels padded +{PadIn} in, +{PadOut} out" : null,
        Contiguous ? "NCHW layout" : null,
        Pointwise ? "as a matrix product" : null,
        Reference ? "on the reference kernels" : null,
        PhaseGradient ? "input gradient by stride phases" : null,
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
        var (padIn, padOut, contiguous, pointwise, reference, phases) = variant;
        // The useful work: padded channels add zeros, not FLOPs.
        if (FlopCount.Current is { } count)
            count.Add(2.0 * x.shape[0] * (weight.shape[0] - padOut) * OutputSize(x.shape[2], weight.shape[2], strides[0], padding[0], dilations[0])
                * OutputSize(x.shape[3], weight.shape[3], strides[1], padding[1], dilations[1]) * (x.shape[1] / groups) * weight.shape[2] * weight.shape[3]);
        if (pointwise) return Pointwise(x, weight, bias, strides);
        if (reference) return ReferenceConvolution.Run(x, weight, bias, strides, padding, dilations, groups);
        if (phases) return PhaseGradientConvolution.Run(x, weight, bias, strides, padding);
        if (contiguous) x = x.contiguous();
        if (padIn > 0) x = F.pad(x, [0, 0, 0, 0, 0, padIn]);
        var y = F.conv2d(x, weight, bias, strides, padding, dilations, groups);
        return padOut > 0 ? y.narrow(1, 0, weight.shape[0] - padOut) : y;
    }

    static long OutputSize(long input, long kernel, long stride, long padding, long dilation) => (input + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;

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
        var (padIn, padOut, contiguous, _, _, _) = variant;
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

    /// <summary>
    /// A strided convolution whose input gradient is computed by stride phases. With stride s, input row s·m + a only
    /// meets kernel rows of parity a: gx[c, s·m+a, s·n+b] = Σ_o Σ_t,w W[o, c, s·t+a, s·w+b] · gy[o, m−t, n−w]. All s²
    /// phases of all input channels are one stride-1 convolution of the output gradient (64 channels for a ResNet
    /// stem, which oneDNN vectorizes along) with a ⌈k/s⌉² kernel into C·s² channels, interleaved afterwards.
    /// </summary>
    sealed class PhaseGradientConvolution : autograd.SingleTensorFunction<PhaseGradientConvolution>
    {
        public override string Name => "PhaseGradientConvolution";

        public static Tensor Run(Tensor x, Tensor weight, Tensor? bias, long[] strides, long[] padding) =>
            apply(x, weight.detach(), bias?.detach(), strides, padding);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, weight, bias, strides, padding) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor?)vars[2], (long[])vars[3], (long[])vars[4]);
            ctx.save_for_backward([PhaseKernel(weight, strides)]);
            ctx.save_data("geometry", new[] { x.shape[1], x.shape[2], x.shape[3], strides[0], strides[1], padding[0], padding[1] });
            return F.conv2d(x, weight, bias, strides, padding);
        }

        // [Cout, Cin, kh, kw] → [Cin·sh·sw, Cout, ⌈kh/sh⌉, ⌈kw/sw⌉]: channel (c, a, b) holds the kernel taps of parity (a, b),
        // flipped so that a cross-correlation computes the sum above.
        static Tensor PhaseKernel(Tensor weight, long[] strides)
        {
            using var scope = NewDisposeScope();
            var (cout, cin, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]);
            var (sh, sw) = (strides[0], strides[1]);
            var (th, tw) = ((kh + sh - 1) / sh, (kw + sw - 1) / sw);
            var padded = F.pad(weight.contiguous(), [0, tw * sw - kw, 0, th * sh - kh]);
            var phases = padded.view(cout, cin, th, sh, tw, sw).permute(1, 3, 5, 0, 2, 4).reshape(cin * sh * sw, cout, th, tw).flip(2, 3);
            return ChannelsLast(phases).MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
        {
            var kernel = ctx.get_saved_variables()[0];
            var g = (long[])ctx.get_data("geometry");
            var (cin, height, width, sh, sw, ph, pw) = (g[0], g[1], g[2], g[3], g[4], g[5], g[6]);
            var (th, tw) = (kernel.shape[2], kernel.shape[3]);
            var phases = F.conv2d(gradient, kernel, padding: [th - 1, tw - 1]);
            var (rows, columns) = (phases.shape[2], phases.shape[3]);
            // [N, C·sh·sw, R, K] → [N, C, R·sh, K·sw]; then the padding's rows and columns drop off the front and the
            // rows no window reached off the end.
            var full = phases.view(phases.shape[0], cin, sh, sw, rows, columns).permute(0, 1, 4, 2, 5, 3).reshape(phases.shape[0], cin, rows * sh, columns * sw);
            var input = full.narrow(2, ph, height).narrow(3, pw, width);
            // One gradient per argument of forward: the input's; none for the constant weights, bias and geometry.
            return [ChannelsLast(input), null!, null!, null!, null!];
        }
    }

    /// <summary>Puts a 4-D tensor in channels-last memory layout (same values, NHWC strides).</summary>
    public static Tensor ChannelsLast(Tensor t) => t.dim() == 4 ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t;
}

/// <summary>
/// Counts the FLOPs (2 × multiply-adds) of the convolutions run on this thread while it is in effect: what the
/// bench divides by a pass's time to say how close the pass runs to the machine's peak.
/// </summary>
public sealed class FlopCount : IDisposable
{
    [ThreadStatic] static FlopCount? _current;
    readonly FlopCount? _outer;

    FlopCount() => (_outer, _current) = (_current, this);

    /// <summary>The count in effect on this thread, if any.</summary>
    public static FlopCount? Current => _current;

    /// <summary>Starts counting on this thread until disposed.</summary>
    public static FlopCount Start() => new();

    /// <summary>FLOPs counted so far.</summary>
    public double Flops { get; private set; }

    // An outer count includes what the counts inside it saw.
    internal void Add(double flops)
    {
        for (var count = this; count is not null; count = count._outer) count.Flops += flops;
    }

    /// <inheritdoc/>
    public void Dispose() => _current = _outer;
}
