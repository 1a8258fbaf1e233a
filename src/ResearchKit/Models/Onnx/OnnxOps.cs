using ResearchKit.Models.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Models.Onnx;

/// <summary>Computes a node's outputs from its inputs (null for omitted optional inputs).</summary>
public delegate Tensor[] OnnxKernel(OnnxNode node, IReadOnlyList<Tensor?> inputs);

/// <summary>
/// The ONNX operators the importer implements, as TorchSharp functions of the node's inputs. Adding an operator is
/// one entry here. All kernels are differentiable with respect to float inputs.
/// </summary>
public static partial class OnnxOps
{
    static readonly Dictionary<string, OnnxKernel> Kernels = new()
    {
        ["Conv"] = Conv,
        ["ConvTranspose"] = ConvTranspose,
        ["BatchNormalization"] = BatchNormalization,
        ["InstanceNormalization"] = InstanceNormalization,
        ["LayerNormalization"] = LayerNormalization,
        ["Relu"] = (_, i) => [ReluGradient.Relu(In(i, 0))],
        ["LeakyRelu"] = (n, i) => [F.leaky_relu(In(i, 0), n.Float("alpha", 0.01f))],
        ["Sigmoid"] = (_, i) => [In(i, 0).sigmoid()],
        ["Tanh"] = (_, i) => [In(i, 0).tanh()],
        ["Add"] = (_, i) => [In(i, 0) + In(i, 1)],
        ["Sub"] = (_, i) => [In(i, 0) - In(i, 1)],
        ["Mul"] = (_, i) => [In(i, 0) * In(i, 1)],
        ["Div"] = (_, i) => [Divide(In(i, 0), In(i, 1))],
        ["Sum"] = (_, i) => [Variadic(i, (a, b) => a + b)],
        ["Min"] = (_, i) => [Variadic(i, minimum)],
        ["Max"] = (_, i) => [Variadic(i, maximum)],
        ["Mean"] = (_, i) => [Variadic(i, (a, b) => a + b) / i.Count],
        ["Pow"] = (_, i) => [In(i, 0).pow(In(i, 1))],
        ["Sqrt"] = (_, i) => [In(i, 0).sqrt()],
        ["Exp"] = (_, i) => [In(i, 0).exp()],
        ["Log"] = (_, i) => [In(i, 0).log()],
        ["Neg"] = (_, i) => [-In(i, 0)],
        ["Abs"] = (_, i) => [In(i, 0).abs()],
        ["Reciprocal"] = (_, i) => [In(i, 0).reciprocal()],
        ["Floor"] = (_, i) => [In(i, 0).floor()],
        ["Ceil"] = (_, i) => [In(i, 0).ceil()],
        ["Erf"] = (_, i) => [In(i, 0).erf()],
        ["Gelu"] = Gelu,
        ["HardSigmoid"] = (n, i) => [(In(i, 0) * n.Float("alpha", 0.2f) + n.Float("beta", 0.5f)).clamp(0, 1)],
        ["HardSwish"] = (_, i) => [In(i, 0) * (In(i, 0) * (1f / 6) + 0.5f).clamp(0, 1)],
        ["Elu"] = (n, i) => [ExponentialLinear(In(i, 0), n.Float("alpha", 1f), 1f)],
        ["Selu"] = (n, i) => [ExponentialLinear(In(i, 0), n.Float("alpha", 1.67326319217681884765625f), n.Float("gamma", 1.05070102214813232421875f))],
        ["Softplus"] = (_, i) => [Softplus(In(i, 0))],
        ["Softsign"] = (_, i) => [In(i, 0) / (In(i, 0).abs() + 1)],
        ["Mish"] = (_, i) => [In(i, 0) * Softplus(In(i, 0)).tanh()],
        ["PRelu"] = (_, i) => [where(In(i, 0) < 0, In(i, 0) * In(i, 1), In(i, 0))],
        ["Equal"] = (_, i) => [In(i, 0).eq(In(i, 1))],
        ["Less"] = (_, i) => [In(i, 0).lt(In(i, 1))],
        ["LessOrEqual"] = (_, i) => [In(i, 0).le(In(i, 1))],
        ["Greater"] = (_, i) => [In(i, 0).gt(In(i, 1))],
        ["GreaterOrEqual"] = (_, i) => [In(i, 0).ge(In(i, 1))],
        ["Not"] = (_, i) => [In(i, 0).logical_not()],
        ["And"] = (_, i) => [In(i, 0).logical_and(In(i, 1))],
        ["Or"] = (_, i) => [In(i, 0).logical_or(In(i, 1))],
        ["Xor"] = (_, i) => [In(i, 0).logical_xor(In(i, 1))],
        ["Where"] = (_, i) => [where(In(i, 0).to_type(ScalarType.Bool), In(i, 1), In(i, 2))],
        ["Cast"] = Cast,
        ["ConstantOfShape"] = ConstantOfShape,
        ["Range"] = Range,
        ["Expand"] = (_, i) => [In(i, 0).expand(Broadcast(In(i, 0).shape, Longs(In(i, 1))))],
        ["Tile"] = (_, i) => [In(i, 0).repeat(Longs(In(i, 1)))],
        ["Slice"] = Slice,
        ["Split"] = Split,
        ["Einsum"] = (n, i) => [einsum(n.String("equation", ""), [.. i.Select((_, k) => In(i, k))])],
        ["ReduceMean"] = Reduce((x, axes, keep) => x.mean(axes, keep), 18),
        ["ReduceSum"] = Reduce((x, axes, keep) => x.sum(axes, keep), 13),
        ["ReduceMax"] = Reduce((x, axes, keep) => x.amax(axes, keep), 18),
        ["ReduceMin"] = Reduce((x, axes, keep) => x.amin(axes, keep), 18),
        ["ReduceProd"] = Reduce((x, axes, keep) => axes.OrderDescending().Aggregate(x, (t, a) => t.prod(a, keep)), 18),
        ["ReduceSumSquare"] = Reduce((x, axes, keep) => (x * x).sum(axes, keep), 18),
        ["ReduceL1"] = Reduce((x, axes, keep) => x.abs().sum(axes, keep), 18),
        ["ReduceL2"] = Reduce((x, axes, keep) => (x * x).sum(axes, keep).sqrt(), 18),
        ["ArgMax"] = (n, i) => [ArgExtreme(n, In(i, 0), max: true)],
        ["ArgMin"] = (n, i) => [ArgExtreme(n, In(i, 0), max: false)],
        ["MaxPool"] = MaxPool,
        ["AveragePool"] = AveragePool,
        ["GlobalAveragePool"] = (_, i) => [In(i, 0).mean([2, 3], keepdim: true)],
        ["GlobalMaxPool"] = (_, i) => [In(i, 0).amax([2, 3], keepdim: true)],
        ["LRN"] = LocalResponseNorm,
        ["Concat"] = (n, i) => [cat(i.Select((_, k) => In(i, k)).ToList(), n.Int("axis", 1))],
        ["Flatten"] = Flatten,
        ["Reshape"] = Reshape,
        ["Transpose"] = (n, i) => [In(i, 0).permute(n.Ints("perm") ?? Enumerable.Range(0, (int)In(i, 0).dim()).Reverse().Select(d => (long)d).ToArray())],
        ["Gemm"] = Gemm,
        ["MatMul"] = (_, i) => [MatMul(In(i, 0), In(i, 1))],
        ["Softmax"] = Softmax,
        ["Dropout"] = Dropout,
        ["Identity"] = (_, i) => [In(i, 0)],
        ["Clip"] = Clip,
        ["Pad"] = Pad,
        ["Constant"] = Constant,
        ["Shape"] = Shape,
        ["Gather"] = Gather,
        ["Unsqueeze"] = Unsqueeze,
        ["Squeeze"] = Squeeze,
        ["Resize"] = Resize,
        ["Upsample"] = Upsample,
    };

    /// <summary>Names of every supported operator.</summary>
    public static IReadOnlyCollection<string> Supported => Kernels.Keys;

    /// <summary>The kernel for an operator, or null.</summary>
    public static OnnxKernel? Find(string opType) => Kernels.GetValueOrDefault(opType);

    static Tensor In(IReadOnlyList<Tensor?> inputs, int k) =>
        k < inputs.Count && inputs[k] is { } t ? t : throw new InvalidSettingException($"input {k} is missing");

    static Tensor? Optional(IReadOnlyList<Tensor?> inputs, int k) => k < inputs.Count ? inputs[k] : null;

    static Tensor Variadic(IReadOnlyList<Tensor?> inputs, Func<Tensor, Tensor, Tensor> combine) =>
        inputs.Select((_, k) => In(inputs, k)).Aggregate(combine);

    // Integer division truncates (as ONNX Runtime's does), so that shape arithmetic stays exact integers.
    static Tensor Divide(Tensor a, Tensor b) =>
        a.is_floating_point() || b.is_floating_point() ? a / b : a.div(b, RoundingMode.trunc);

    // ELU's negative branch, written with expm1 of min(x, 0) so that the unused branch never overflows.
    static Tensor ExponentialLinear(Tensor x, float alpha, float gamma)
    {
        var y = F.relu(x) + x.clamp_max(0).expm1() * alpha;
        return gamma == 1f ? y : y * gamma;
    }

    // log(1 + e^x) without overflow for large x.
    static Tensor Softplus(Tensor x) => F.relu(x) + (-x.abs()).exp().log1p();

    // Opset 20: the exact form through erf, or the tanh approximation.
    static Tensor[] Gelu(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        return node.String("approximate", "none") switch
        {
            "none" => [x * 0.5 * ((x * Math.Sqrt(0.5)).erf() + 1)],
            "tanh" => [x * 0.5 * ((x + x.pow(3) * 0.044715) * Math.Sqrt(2 / Math.PI)).tanh().add(1)],
            var other => throw new UnsupportedOperatorException($"{node}: approximate '{other}' is not supported (none and tanh are)"),
        };
    }

    // ONNX pads are [begin_1..begin_n, end_1..end_n]; torch's F.pad wants (last_begin, last_end, ..., first_begin, first_end).
    static long[] TorchPads(long[] onnx)
    {
        int n = onnx.Length / 2;
        var pads = new long[onnx.Length];
        for (int d = 0; d < n; d++)
        {
            pads[2 * d] = onnx[n - 1 - d];
            pads[2 * d + 1] = onnx[2 * n - 1 - d];
        }
        return pads;
    }

    /// <summary>Explicit spatial pads of a conv or pool node, resolving <c>auto_pad</c> for the actual input size.</summary>
    static long[] SpatialPads(OnnxNode node, Tensor x, long[] kernel, long[] strides, long[] dilations)
    {
        int n = kernel.Length;
        var autoPad = node.String("auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER") return CheckPadding(x.shape, SamePads(autoPad, x.shape[2..], kernel, strides, dilations));
        return CheckPadding(x.shape, node.Ints("pads") ?? new long[2 * n]);
    }

    /// <summary>Pads for output size ⌈input / stride⌉; the odd extra pixel goes at the end (UPPER) or the start (LOWER).</summary>
    internal static long[] SamePads(string rule, long[] spatial, long[] kernel, long[] strides, long[] dilations)
    {
        int n = kernel.Length;
        var pads = new long[2 * n];
        for (int d = 0; d < n; d++)
        {
            long size = spatial[d], output = (size + strides[d] - 1) / strides[d];
            long total = Math.Max(0, (output - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - size);
            long small = total / 2, large = total - small;
            (pads[d], pads[n + d]) = rule == "SAME_UPPER" ? (small, large) : (large, small);
        }
        return pads;
    }

    // A corrupt or hostile file can ask for padding that needs more memory than the machine has, and libtorch then
    // allocates until the process is killed. Padding may grow a tensor by a bounded factor only.
    const double MaxPaddingGrowth = 64, PaddingSlack = 1 << 20;

    /// <summary>Throws unless padding <paramref name="shape"/> by <paramref name="pads"/> (ONNX layout, for the last
    /// pads.Length / 2 dimensions) keeps it within <see cref="MaxPaddingGrowth"/> times its size.</summary>
    static long[] CheckPadding(long[] shape, long[] pads)
    {
        int n = pads.Length / 2, lead = shape.Length - n;
        if (pads.Length % 2 != 0 || lead < 0)
            throw new InvalidSettingException($"{pads.Length} pads do not fit an input of shape [{string.Join(",", shape)}]");
        double before = 1, after = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            before *= shape[d];
            after *= d < lead ? shape[d] : Math.Max(0, shape[d] + (double)pads[d - lead] + pads[n + d - lead]);
        }
        if (after > MaxPaddingGrowth * before + PaddingSlack)
            throw new InvalidSettingException($"pads [{string.Join(",", pads)}] would grow [{string.Join(",", shape)}] from {before:0} to {after:0} values; the file is probably corrupt");
        return pads;
    }

    static bool Symmetric(long[] pads) => pads.Take(pads.Length / 2).SequenceEqual(pads.Skip(pads.Length / 2));

    static Tensor[] Conv(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var (x, w, b) = (In(i, 0), In(i, 1), Optional(i, 2));
        var kernel = node.Ints("kernel_shape") ?? w.shape[2..];
        var strides = node.Ints("strides") ?? [.. kernel.Select(_ => 1L)];
        var dilations = node.Ints("dilations") ?? [.. kernel.Select(_ => 1L)];
        var pads = SpatialPads(node, x, kernel, strides, dilations);
        long groups = node.Int("group", 1);
        if (!Symmetric(pads))
        {
            x = F.pad(x, TorchPads(pads));
            pads = new long[pads.Length];
        }
        var padding = pads.Take(kernel.Length).ToArray();
        // In bfloat16 execution a value may arrive in float32 (from a Constant node); the weights decide.
        if (x.dtype != w.dtype) x = x.to_type(w.dtype);
        return kernel.Length switch
        {
            2 => [Convolution.Run(x, w, b, strides, padding, dilations, groups, node.ConvolutionVariant)],
            1 => [F.conv1d(x, w, b, strides[0], padding[0], dilations[0], groups)],
            _ => throw new UnsupportedOperatorException($"{node}: {kernel.Length}-D convolution is not supported (1-D and 2-D are)"),
        };
    }

    /// <summary>
    /// The transpose of a convolution, ONNX's geometry: output = stride·(input − 1) + output_padding + (kernel − 1)·dilation
    /// + 1 − pads (or output_shape, with the padding split by auto_pad). libtorch pads symmetrically and adds output
    /// padding only below the stride; anything else is the full transposed convolution cropped and padded by hand.
    /// </summary>
    static Tensor[] ConvTranspose(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var (x, w, b) = (In(i, 0), In(i, 1), Optional(i, 2));
        if (x.dtype != w.dtype) x = x.to_type(w.dtype);
        var kernel = node.Ints("kernel_shape") ?? w.shape[2..];
        int n = kernel.Length;
        if (n is not (1 or 2)) throw new UnsupportedOperatorException($"{node}: {n}-D transposed convolution is not supported (1-D and 2-D are)");
        var strides = node.Ints("strides") ?? [.. kernel.Select(_ => 1L)];
        var dilations = node.Ints("dilations") ?? [.. kernel.Select(_ => 1L)];
        var outputPadding = node.Ints("output_padding") ?? new long[n];
        long groups = node.Int("group", 1);
        var full = Enumerable.Range(0, n).Select(d => strides[d] * (x.shape[2 + d] - 1) + (kernel[d] - 1) * dilations[d] + 1).ToArray();
        long[] pads;
        if (node.Has("output_shape") || node.String("auto_pad", "NOTSET") is "SAME_UPPER" or "SAME_LOWER")
        {
            var target = node.Ints("output_shape")?.TakeLast(n).ToArray()
                ?? [.. Enumerable.Range(0, n).Select(d => x.shape[2 + d] * strides[d])];
            pads = new long[2 * n];
            for (int d = 0; d < n; d++)
            {
                // The odd pixel goes at the start for SAME_LOWER, at the end otherwise (as ONNX Runtime does).
                long total = full[d] + outputPadding[d] - target[d], half = total / 2;
                (pads[d], pads[n + d]) = node.String("auto_pad", "NOTSET") == "SAME_LOWER" ? (total - half, half) : (half, total - half);
            }
        }
        else pads = node.String("auto_pad", "NOTSET") == "VALID" ? new long[2 * n] : node.Ints("pads") ?? new long[2 * n];
        var begin = pads[..n];
        bool native = Symmetric(pads) && Enumerable.Range(0, n).All(d => outputPadding[d] < Math.Max(strides[d], dilations[d]));
        if (native)
            return n == 2
                ? [F.conv_transpose2d(x, w, b, strides, begin, outputPadding, dilations, groups)]
                : [F.conv_transpose1d(x, w, b, strides[0], begin[0], outputPadding[0], dilations[0], groups)];
        var y = n == 2
            ? F.conv_transpose2d(x, w, null, strides, new long[2], new long[2], dilations, groups)
            : F.conv_transpose1d(x, w, null, strides[0], 0, 0, dilations[0], groups);
        // Negative padding crops: drop the leading pads, then pad the end by output_padding minus the trailing pads.
        var crop = new long[2 * n];
        for (int d = 0; d < n; d++) (crop[d], crop[n + d]) = (-pads[d], outputPadding[d] - pads[n + d]);
        y = F.pad(y, TorchPads(crop));
        return b is null ? [y] : [y + b.reshape([-1, .. Enumerable.Repeat(1L, n)])];
    }

    static Tensor[] BatchNormalization(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var (x, scale) = (In(i, 0), In(i, 1));
        if (x.dtype != scale.dtype) x = x.to_type(scale.dtype);
        return [F.batch_norm(x, In(i, 3), In(i, 4), scale, In(i, 2), training: false, eps: node.Float("epsilon", 1e-5f))];
    }

    // Each image's channels normalized over their positions, then scaled and shifted per channel.
    static Tensor[] InstanceNormalization(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var axes = Enumerable.Range(2, (int)x.dim() - 2).Select(d => (long)d).ToArray();
        var perChannel = new long[] { -1 }.Concat(axes.Select(_ => 1L)).ToArray();
        var normalized = Standardize(x, axes, node.Float("epsilon", 1e-5f)).Value;
        return [normalized * In(i, 1).reshape(perChannel) + In(i, 2).reshape(perChannel)];
    }

    // Opset 17: normalized over the dimensions from axis on; the optional outputs are the mean and 1/σ.
    static Tensor[] LayerNormalization(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long axis = node.Int("axis", -1);
        if (axis < 0) axis += x.dim();
        var axes = Enumerable.Range((int)axis, (int)(x.dim() - axis)).Select(d => (long)d).ToArray();
        var (y, mean, inverse) = Standardize(x, axes, node.Float("epsilon", 1e-5f));
        y = y * In(i, 1);
        if (Optional(i, 2) is { } bias) y = y + bias;
        return [y, mean, inverse];
    }

    // (x − mean) / √(variance + ε) over the given axes, with the biased variance, as ONNX defines both normalizations.
    static (Tensor Value, Tensor Mean, Tensor InverseDeviation) Standardize(Tensor x, long[] axes, float epsilon)
    {
        var mean = x.mean(axes, keepdim: true);
        var centred = x - mean;
        var inverse = ((centred * centred).mean(axes, keepdim: true) + epsilon).rsqrt();
        return (centred * inverse, mean, inverse);
    }

    static (long[] Kernel, long[] Strides, long[] Dilations, long[] Pads, bool Ceil) PoolGeometry(OnnxNode node, Tensor x)
    {
        var kernel = node.Ints("kernel_shape") ?? throw new ModelLoadException($"{node} has no kernel_shape");
        if (kernel.Length != 2) throw new UnsupportedOperatorException($"{node}: {kernel.Length}-D pooling is not supported (2-D is)");
        var strides = node.Ints("strides") ?? [1, 1];
        var dilations = node.Ints("dilations") ?? [1, 1];
        return (kernel, strides, dilations, SpatialPads(node, x, kernel, strides, dilations), node.Int("ceil_mode", 0) != 0);
    }

    static Tensor[] MaxPool(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var (kernel, strides, dilations, pads, ceil) = PoolGeometry(node, x);
        // torch only pads symmetrically and at most half a kernel; anything else is padded explicitly with -inf,
        // which never wins a max, exactly as ONNX defines padding for MaxPool -- unless torch's own leading padding and
        // rounding give the same windows (extra padding at the end, as CNTK exports, is then ceil mode: a copy saved).
        if (!Symmetric(pads) || pads[0] * 2 > kernel[0] || pads[1] * 2 > kernel[1])
        {
            if (SameWindows(x.shape, kernel, strides, dilations, pads, ceil) is { } ceilMode) ceil = ceilMode;
            else
            {
                x = F.pad(x, TorchPads(pads), value: double.NegativeInfinity);
                pads = new long[4];
            }
        }
        return [F.max_pool2d(x, kernel, strides, [pads[0], pads[1]], dilations, ceil)];
    }

    /// <summary>
    /// The ceil mode under which torch's pooling with the leading ONNX pads on both sides gives the same windows as
    /// ONNX's pads: windows start at the same places, so equal output sizes mean equal windows (positions outside the
    /// image count as -inf either way). Null when neither mode does.
    /// </summary>
    static bool? SameWindows(long[] shape, long[] kernel, long[] strides, long[] dilations, long[] pads, bool ceil)
    {
        if (pads[0] * 2 > kernel[0] || pads[1] * 2 > kernel[1]) return null;
        foreach (var ceilMode in new[] { false, true })
            if (Enumerable.Range(0, 2).All(d =>
                    PoolOutputSize(shape[2 + d], pads[d], pads[d], kernel[d], strides[d], dilations[d], ceilMode)
                    == PoolOutputSize(shape[2 + d] + pads[d] + pads[2 + d], 0, 0, kernel[d], strides[d], dilations[d], ceil)))
                return ceilMode;
        return null;
    }

    /// <summary>
    /// Output size of a convolution or pooling window along one axis (torch and ONNX Runtime agree): in ceil mode the
    /// last window must start inside the image or its leading pad.
    /// </summary>
    internal static long PoolOutputSize(long size, long before, long after, long kernel, long stride, long dilation, bool ceil)
    {
        long span = size + before + after - dilation * (kernel - 1) - 1;
        long output = (ceil ? span + stride - 1 : span) / stride + 1;
        return ceil && (output - 1) * stride >= size + before ? output - 1 : output;
    }

    static Tensor[] AveragePool(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var (kernel, strides, _, pads, ceil) = PoolGeometry(node, x);
        bool countPads = node.Int("count_include_pad", 0) != 0;
        if (pads.All(p => p == 0) || (Symmetric(pads) && pads[0] * 2 <= kernel[0] && pads[1] * 2 <= kernel[1] && !ceil))
            return [F.avg_pool2d(x, kernel, strides, [pads[0], pads[1]], ceil, countPads)];
        var padded = F.pad(x, TorchPads(pads));
        var sums = F.avg_pool2d(padded, kernel, strides, ceil_mode: ceil, count_include_pad: true);
        if (countPads) return [sums];
        // Average over real pixels only: divide by the share of each window that lies inside the unpadded image.
        using var ones = ones_like(x[.., ..1]);
        using var inside = F.avg_pool2d(F.pad(ones, TorchPads(pads)), kernel, strides, ceil_mode: ceil, count_include_pad: true);
        return [sums / inside];
    }

    static Tensor[] LocalResponseNorm(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long size = node.Int("size", 5);
        float alpha = node.Float("alpha", 1e-4f), beta = node.Float("beta", 0.75f), bias = node.Float("bias", 1f);
        // ONNX sums squares over channels [c - floor((size-1)/2), c + ceil((size-1)/2)].
        long before = (size - 1) / 2, after = size - 1 - before;
        var channelPads = new long[2 * x.dim()];
        (channelPads[1], channelPads[x.dim() + 1]) = (before, after);
        CheckPadding(x.shape, channelPads);
        // libtorch's 3-D average pooling has no bfloat16 kernel; the channel sums are taken in float32.
        var wide = x.dtype == ScalarType.BFloat16 ? x.to_type(ScalarType.Float32) : x;
        var squares = F.pad((wide * wide).unsqueeze(1), [0, 0, 0, 0, before, after]);
        var sums = F.avg_pool3d(squares, [size, 1, 1], [1, 1, 1]).squeeze(1) * size;
        return [(wide / (bias + alpha / size * sums).pow(beta)).to_type(x.dtype)];
    }

    static Tensor[] Flatten(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long axis = node.Int("axis", 1);
        if (axis < 0) axis += x.dim();
        long outer = x.shape.Take((int)axis).Aggregate(1L, (a, b) => a * b);
        return [x.reshape(outer, -1)];
    }

    static Tensor[] Reshape(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long[] shape = node.Opset >= 5 ? In(i, 1).data<long>().ToArray() : node.Ints("shape")!;
        bool allowZero = node.Int("allowzero", 0) != 0;
        for (int d = 0; d < shape.Length; d++)
            if (shape[d] == 0 && !allowZero) shape[d] = x.shape[d];
        return [x.reshape(shape)];
    }

    static Tensor[] Gemm(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var a = node.Int("transA", 0) != 0 ? In(i, 0).t() : In(i, 0);
        var b = node.Int("transB", 0) != 0 ? In(i, 1).t() : In(i, 1);
        var y = MatMul(a, b) * node.Float("alpha", 1f);
        return Optional(i, 2) is { } c ? [y + c * node.Float("beta", 1f)] : [y];
    }

    // libtorch's matmul aborts the process on any error (TorchSharp does not catch there): mismatched shapes or types,
    // or a result too large to allocate. So all of that is checked first.
    static Tensor MatMul(Tensor a, Tensor b)
    {
        long[] sa = a.shape, sb = b.shape;
        var batchA = sa.Length > 2 ? sa[..^2] : [];
        var batchB = sb.Length > 2 ? sb[..^2] : [];
        bool broadcastable = batchA.Reverse().Zip(batchB.Reverse()).All(p => p.First == p.Second || p.First == 1 || p.Second == 1);
        if (sa.Length == 0 || sb.Length == 0 || sa[^1] != (sb.Length == 1 ? sb[0] : sb[^2]) || !broadcastable)
            throw new InvalidSettingException($"cannot multiply [{string.Join(",", sa)}] by [{string.Join(",", sb)}]");
        if (a.dtype != b.dtype || !a.is_floating_point())
            throw new InvalidSettingException($"cannot multiply {a.dtype} by {b.dtype} values; both must be the same floating-point type");
        double batch = 1;
        for (int k = 1; k <= Math.Max(batchA.Length, batchB.Length); k++)
            batch *= Math.Max(k <= batchA.Length ? batchA[^k] : 1, k <= batchB.Length ? batchB[^k] : 1);
        double values = batch * (sa.Length > 1 ? sa[^2] : 1) * (sb.Length > 1 ? sb[^1] : 1);
        if (values > MaxMatMulValues)
            throw new InvalidSettingException($"multiplying [{string.Join(",", sa)}] by [{string.Join(",", sb)}] would make {values:0} values; the file is probably corrupt");
        return matmul(a, b);
    }

    const double MaxMatMulValues = 1L << 31;

    static Tensor[] Clip(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        if (node.Opset < 11)
            return [ReluGradient.Clamp(x, node.Float("min", float.MinValue), node.Float("max", float.MaxValue))];
        float Bound(Tensor? t, float fallback) => t is null ? fallback : t.to_type(ScalarType.Float32).item<float>();
        return [ReluGradient.Clamp(x, Bound(Optional(i, 1), float.MinValue), Bound(Optional(i, 2), float.MaxValue))];
    }

    static Tensor[] Pad(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long[] pads = node.Opset >= 11 ? In(i, 1).data<long>().ToArray() : node.Ints("pads") ?? node.Ints("paddings")!;
        float value = node.Opset >= 11 ? Optional(i, 2)?.item<float>() ?? 0f : node.Float("value", 0f);
        if (Optional(i, 3) is { } axes) pads = PadsOfAllAxes(pads, axes.data<long>().ToArray(), (int)x.dim());
        CheckPadding(x.shape, pads);
        var mode = node.String("mode", "constant");
        // torch pads trailing dimensions: pad from the first padded one on (reflect and edge need at least the last
        // two of a 4-D input, which torch treats as a batch of 2-D images).
        int n = pads.Length / 2;
        int first = Enumerable.Range(0, n).FirstOrDefault(d => pads[d] != 0 || pads[n + d] != 0, n);
        if (first == n) return [x];
        if (mode != "constant") first = Math.Min(first, Math.Max(0, n - 2));
        var trailing = pads.Skip(first).Take(n - first).Concat(pads.Skip(n + first)).ToArray();
        var torchPads = TorchPads(trailing);
        return mode switch
        {
            "constant" => [F.pad(x, torchPads, value: value)],
            "reflect" => [F.pad(x, torchPads, PaddingModes.Reflect)],
            "edge" => [F.pad(x, torchPads, PaddingModes.Replicate)],
            _ => throw new UnsupportedOperatorException($"{node}: pad mode '{mode}' is not supported (constant, reflect, edge are)"),
        };
    }

    // Opset 18's optional axes input: pads then name only the listed axes.
    static long[] PadsOfAllAxes(long[] pads, long[] axes, int rank)
    {
        var all = new long[2 * rank];
        for (int k = 0; k < axes.Length; k++)
        {
            long a = axes[k] < 0 ? axes[k] + rank : axes[k];
            (all[a], all[rank + a]) = (pads[k], pads[axes.Length + k]);
        }
        return all;
    }

    // Before opset 13, softmax treats the input as 2-D: dimensions before the axis against all from it on.
    static Tensor[] Softmax(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long axis = node.Int("axis", node.Opset >= 13 ? -1 : 1);
        if (node.Opset >= 13) return [x.softmax(axis)];
        if (axis < 0) axis += x.dim();
        return [x.flatten(axis).softmax(-1).reshape(x.shape)];
    }

    // Inference is the identity; a requested mask is all true.
    static Tensor[] Dropout(OnnxNode node, IReadOnlyList<Tensor?> i) => node.Outputs.Count > 1
        ? [In(i, 0), ones_like(In(i, 0), dtype: @bool)]
        : [In(i, 0)];

    static Tensor[] Constant(OnnxNode node, IReadOnlyList<Tensor?> _)
    {
        if (node.TensorAttribute("value") is { } value) return [OnnxTensors.ToTensor(value, node.Name, null)];
        if (node.Has("value_float")) return [tensor(node.Float("value_float", 0f), device: CPU)];
        if (node.Floats("value_floats") is { } floats) return [tensor(floats, device: CPU)];
        if (node.Has("value_int")) return [tensor(node.Int("value_int", 0), device: CPU)];
        if (node.Ints("value_ints") is { } ints) return [tensor(ints, device: CPU)];
        throw new UnsupportedOperatorException($"{node}: only value, value_float(s) and value_int(s) constants are supported");
    }

    static Tensor[] Shape(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var shape = In(i, 0).shape;
        int Clamp(long k) => (int)Math.Clamp(k < 0 ? k + shape.Length : k, 0, shape.Length);
        int start = Clamp(node.Int("start", 0)), end = Clamp(node.Int("end", shape.Length));
        return [tensor(shape[start..Math.Max(start, end)], device: CPU)];
    }

    static Tensor[] Gather(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var (data, indices) = (In(i, 0), In(i, 1));
        long axis = node.Int("axis", 0);
        if (axis < 0) axis += data.dim();
        var flat = indices.flatten().to(data.device);
        flat = where(flat < 0, flat + data.shape[axis], flat);
        return [data.index_select(axis, flat).reshape([.. data.shape.Take((int)axis), .. indices.shape, .. data.shape.Skip((int)axis + 1)])];
    }

    // Unsqueeze's axes count in the output's rank; Squeeze's in the input's. Without axes, Squeeze drops every size-1 dimension.
    static Tensor[] Unsqueeze(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var axes = Axes(node, i) ?? throw new ModelLoadException($"{node} has no axes");
        long rank = x.dim() + axes.Length;
        return [axes.Select(a => a < 0 ? a + rank : a).Order().Aggregate(x, (t, a) => t.unsqueeze(a))];
    }

    static Tensor[] Squeeze(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var axes = Axes(node, i)?.Select(a => a < 0 ? a + x.dim() : a)
            ?? Enumerable.Range(0, (int)x.dim()).Where(d => x.shape[d] == 1).Select(d => (long)d);
        return [axes.OrderDescending().Aggregate(x, (t, a) => t.squeeze(a))];
    }

    static long[]? Axes(OnnxNode node, IReadOnlyList<Tensor?> i) => node.Ints("axes") ?? Optional(i, 1)?.data<long>().ToArray();
}
