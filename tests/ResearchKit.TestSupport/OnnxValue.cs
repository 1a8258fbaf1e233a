using ResearchKit.Models.Onnx;

namespace ResearchKit.TestSupport;

/// <summary>
/// A value in a graph being built by <see cref="OnnxGraphBuilder"/>, with the operators that can follow it. Weights
/// are drawn from the builder's seeded generator: He-normal convolution and dense weights (He et al. 2015), small
/// normal biases, batch-norm statistics near identity.
/// </summary>
/// <param name="Graph">The builder the value belongs to.</param>
/// <param name="Name">The value's name in the graph.</param>
/// <param name="Shape">The shape where the builder can tell (−1 for a dimension it cannot), else null.</param>
public sealed record OnnxValue(OnnxGraphBuilder Graph, string Name, long[]? Shape)
{
    /// <summary>Dimension 1 (channels or features); throws when the shape is unknown.</summary>
    public long Channels => Shape is { Length: > 1 } s && s[1] > 0 ? s[1]
        : throw new InvalidOperationException($"the channel count of '{Name}' is unknown; give its shape when adding the node that makes it");

    /// <summary>Renames the value (see <see cref="OnnxGraphBuilder.Rename"/>).</summary>
    public OnnxValue Named(string name) => Graph.Rename(this, name);

    /// <summary>Applies an operator that keeps the shape (activations, normalizations).</summary>
    public OnnxValue Apply(string opType, params (string Name, object Value)[] attributes) => Graph.Node(opType, [this], Shape, attributes);

    /// <summary>2-D convolution with square kernels; <paramref name="pads"/> (begin_h, begin_w, end_h, end_w) overrides <paramref name="pad"/>.</summary>
    public OnnxValue Conv(long channels, long kernel, long stride = 1, long pad = 0, long dilation = 1, long group = 1,
        long[]? pads = null, string? autoPad = null, bool bias = true)
    {
        long inputs = Channels;
        if (inputs % group != 0 || channels % group != 0)
            throw new ArgumentException($"group {group} does not divide {inputs} input and {channels} output channels", nameof(group));
        long fanIn = inputs / group * kernel * kernel;
        var weights = Graph.Normal([channels, inputs / group, kernel, kernel], Math.Sqrt(2.0 / fanIn));
        var b = bias ? Graph.Normal([channels], 0.05) : null;
        pads ??= [pad, pad, pad, pad];
        var attributes = new List<(string, object)>
        {
            ("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride, stride }),
            ("dilations", new[] { dilation, dilation }), ("group", group),
        };
        attributes.Add(autoPad is null ? ("pads", pads) : ("auto_pad", autoPad));
        var shape = Windowed(channels, kernel, stride, dilation, pads, autoPad, ceil: false);
        return Graph.Node("Conv", b is null ? [this, weights] : [this, weights, b], shape, [.. attributes]);
    }

    /// <summary>
    /// Transposed 2-D convolution with square kernels and random weights [in, out / group, k, k]; <paramref name="pads"/>
    /// is ONNX's (begin_h, begin_w, end_h, end_w). The output shape is left unknown.
    /// </summary>
    public OnnxValue ConvTranspose(long channels, long kernel, long stride = 1, long[]? pads = null, long[]? outputPadding = null,
        long dilation = 1, long group = 1, string? autoPad = null, long[]? outputShape = null, bool bias = true)
    {
        long inputs = Channels;
        var weights = Graph.Normal([inputs, channels / group, kernel, kernel], Math.Sqrt(1.0 / (inputs / group * kernel * kernel)));
        var attributes = new List<(string, object)>
        {
            ("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride, stride }),
            ("dilations", new[] { dilation, dilation }), ("group", group),
        };
        if (pads is not null) attributes.Add(("pads", pads));
        if (outputPadding is not null) attributes.Add(("output_padding", outputPadding));
        if (autoPad is not null) attributes.Add(("auto_pad", autoPad));
        if (outputShape is not null) attributes.Add(("output_shape", outputShape));
        return Graph.Node("ConvTranspose", bias ? [this, weights, Graph.Normal([channels], 0.05)] : [this, weights], null, [.. attributes]);
    }

    /// <summary>Layer normalization (opset 17) over the dimensions from <paramref name="axis"/> on, with random scale and bias.</summary>
    public OnnxValue LayerNormalization(long axis = -1, float epsilon = 1e-5f, bool bias = true)
    {
        var s = Shape ?? throw new InvalidOperationException($"the shape of '{Name}' is unknown");
        long[] normalized = s[(int)(axis < 0 ? axis + s.Length : axis)..];
        var scale = Graph.Uniform(normalized, 0.5, 1.5);
        return Graph.Node("LayerNormalization", bias ? [this, scale, Graph.Normal(normalized, 0.1)] : [this, scale], Shape,
            ("axis", axis), ("epsilon", epsilon));
    }

    /// <summary>Instance normalization with random per-channel scale and bias.</summary>
    public OnnxValue InstanceNormalization(float epsilon = 1e-5f) =>
        Graph.Node("InstanceNormalization", [this, Graph.Uniform([Channels], 0.5, 1.5), Graph.Normal([Channels], 0.1)], Shape, ("epsilon", epsilon));

    /// <summary>Parametric ReLU with random slopes of the given shape (broadcast against the value).</summary>
    public OnnxValue PRelu(params long[] slopeShape) => Graph.Node("PRelu", [this, Graph.Uniform(slopeShape, -0.5, 0.5)], Shape);

    /// <summary>Batch normalization with random statistics near identity (scale and variance in [0.5, 1.5)).</summary>
    public OnnxValue BatchNormalization(float epsilon = 1e-5f)
    {
        long c = Channels;
        var scale = Graph.Uniform([c], 0.5, 1.5);
        var shift = Graph.Normal([c], 0.1);
        var mean = Graph.Normal([c], 0.1);
        var variance = Graph.Uniform([c], 0.5, 1.5);
        return Graph.Node("BatchNormalization", [this, scale, shift, mean, variance], Shape, ("epsilon", epsilon));
    }

    /// <summary><c>max(x, 0)</c>.</summary>
    public OnnxValue Relu() => Apply("Relu");

    /// <summary><c>x</c> for positive x, <c>alpha·x</c> otherwise.</summary>
    public OnnxValue LeakyRelu(float alpha = 0.01f) => Apply("LeakyRelu", ("alpha", alpha));

    /// <summary>The logistic function.</summary>
    public OnnxValue Sigmoid() => Apply("Sigmoid");

    /// <summary>The hyperbolic tangent.</summary>
    public OnnxValue Tanh() => Apply("Tanh");

    /// <summary>Passes the value through.</summary>
    public OnnxValue Identity() => Apply("Identity");

    /// <summary>Softmax along <paramref name="axis"/> (the opset's default when null).</summary>
    public OnnxValue Softmax(long? axis = null) => axis is { } a ? Apply("Softmax", ("axis", a)) : Apply("Softmax");

    /// <summary>Dropout (the identity at inference).</summary>
    public OnnxValue Dropout(float ratio = 0.5f) => Graph.Opset >= 12
        ? Graph.Node("Dropout", [this, Graph.Scalar(ratio)], Shape)
        : Apply("Dropout", ("ratio", ratio));

    /// <summary>Local response normalization across channels (AlexNet, Krizhevsky et al. 2012).</summary>
    public OnnxValue Lrn(long size = 5, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f) =>
        Apply("LRN", ("size", size), ("alpha", alpha), ("beta", beta), ("bias", bias));

    /// <summary>Max pooling with square windows; <paramref name="pads"/> (begin_h, begin_w, end_h, end_w) overrides <paramref name="pad"/>.</summary>
    public OnnxValue MaxPool(long kernel, long stride = 1, long pad = 0, bool ceilMode = false, long dilation = 1,
        long[]? pads = null, string? autoPad = null) =>
        Pool("MaxPool", kernel, stride, pad, ceilMode, dilation, pads, autoPad);

    /// <summary>Average pooling with square windows; padding counts towards the divisor when <paramref name="countIncludePad"/>.</summary>
    public OnnxValue AveragePool(long kernel, long stride = 1, long pad = 0, bool ceilMode = false, bool countIncludePad = false,
        long[]? pads = null, string? autoPad = null) =>
        Pool("AveragePool", kernel, stride, pad, ceilMode, 1, pads, autoPad, ("count_include_pad", countIncludePad ? 1L : 0L));

    /// <summary>Spatial mean per channel, [N,C,1,1].</summary>
    public OnnxValue GlobalAveragePool() => Graph.Node("GlobalAveragePool", [this], Shape is null ? null : [Shape[0], Shape[1], 1, 1]);

    /// <summary>Flattens dimensions from <paramref name="axis"/> on into the second of two.</summary>
    public OnnxValue Flatten(long axis = 1)
    {
        long[]? shape = null;
        if (Shape is { } s)
        {
            long a = axis < 0 ? axis + s.Length : axis;
            shape = [Product(s.Take((int)a)), Product(s.Skip((int)a))];
        }
        return Apply("Flatten", ("axis", axis)) with { Shape = shape };
    }

    /// <summary>Reshapes (0 keeps a dimension, −1 infers one).</summary>
    public OnnxValue Reshape(params long[] shape)
    {
        long[]? result = null;
        if (Shape is { } s)
        {
            result = shape.Select((d, k) => d == 0 ? s[k] : d).ToArray();
            int infer = Array.IndexOf(shape, -1L);
            if (infer >= 0)
            {
                // Dimensions copied by 0 cancel out, so a symbolic batch kept by 0 still lets the rest be inferred.
                var kept = s.Where((_, k) => k >= shape.Length || shape[k] != 0).ToList();
                var given = shape.Where(d => d > 0).ToList();
                result[infer] = kept.Any(d => d < 0) ? -1 : Product(kept) / Product(given);
            }
        }
        return Graph.Node("Reshape", [this, Graph.Int64s(shape)], result);
    }

    /// <summary>A fully connected layer <c>alpha·x·Wᵀ + beta·b</c> with weights stored [out, in] (transB = 1) as exporters write it.</summary>
    public OnnxValue Gemm(long outputs, bool transB = true, float alpha = 1f, float beta = 1f, bool bias = true)
    {
        long inputs = Channels;
        var weights = Graph.Normal(transB ? [outputs, inputs] : [inputs, outputs], Math.Sqrt(2.0 / inputs));
        var b = bias ? Graph.Normal([outputs], 0.05) : null;
        return Graph.Node("Gemm", b is null ? [this, weights] : [this, weights, b], [Shape![0], outputs],
            ("transB", transB ? 1L : 0L), ("alpha", alpha), ("beta", beta));
    }

    /// <summary>Multiplies the last dimension by random weights [in, <paramref name="outputs"/>].</summary>
    public OnnxValue MatMul(long outputs)
    {
        var s = Shape ?? throw new InvalidOperationException($"the shape of '{Name}' is unknown");
        var weights = Graph.Normal([s[^1], outputs], Math.Sqrt(1.0 / s[^1]));
        return Graph.Node("MatMul", [this, weights], [.. s[..^1], outputs]);
    }

    /// <summary>Pads with the opset's convention (attributes before opset 11, inputs after); pads are ONNX's [begins..., ends...].</summary>
    public OnnxValue Pad(long[] pads, string mode = "constant", float value = 0f)
    {
        long[]? shape = Shape?.Select((d, k) => d < 0 ? d : d + pads[k] + pads[k + Shape.Length]).ToArray();
        return Graph.Opset >= 11
            ? Graph.Node("Pad", [this, Graph.Int64s(pads), Graph.Scalar(value)], shape, ("mode", mode))
            : Apply("Pad", ("pads", pads), ("mode", mode), ("value", value)) with { Shape = shape };
    }

    /// <summary>Clamps to [<paramref name="min"/>, <paramref name="max"/>] (attributes before opset 11, optional inputs after).</summary>
    public OnnxValue Clip(float? min, float? max)
    {
        if (Graph.Opset >= 11)
            return Graph.Node("Clip", [this, min is { } lo ? Graph.Scalar(lo) : null, max is { } hi ? Graph.Scalar(hi) : null], Shape);
        var attributes = new List<(string, object)>();
        if (min is { } a) attributes.Add(("min", a));
        if (max is { } b) attributes.Add(("max", b));
        return Apply("Clip", [.. attributes]);
    }

    /// <summary>Permutes dimensions.</summary>
    public OnnxValue Transpose(params long[] perm) =>
        Apply("Transpose", ("perm", perm)) with { Shape = Shape is null ? null : [.. perm.Select(p => Shape[p])] };

    /// <summary><c>this + other</c> (broadcasting).</summary>
    public OnnxValue Add(OnnxValue other) => Graph.Node("Add", [this, other], Shape);

    /// <summary><c>this - other</c> (broadcasting).</summary>
    public OnnxValue Sub(OnnxValue other) => Graph.Node("Sub", [this, other], Shape);

    /// <summary><c>this * other</c> (broadcasting).</summary>
    public OnnxValue Mul(OnnxValue other) => Graph.Node("Mul", [this, other], Shape);

    /// <summary><c>this / other</c> (broadcasting).</summary>
    public OnnxValue Div(OnnxValue other) => Graph.Node("Div", [this, other], Shape);

    /// <summary>The value's shape as an int64 tensor.</summary>
    public OnnxValue ShapeOf() => Graph.Node("Shape", [this], Shape is null ? null : [Shape.Length]);

    /// <summary>Takes entries along <paramref name="axis"/> at <paramref name="indices"/>.</summary>
    public OnnxValue Gather(OnnxValue indices, long axis = 0) => Graph.Node("Gather", [this, indices], null, ("axis", axis));

    /// <summary>Inserts size-1 dimensions (axes as an attribute before opset 13, an input after).</summary>
    public OnnxValue Unsqueeze(params long[] axes) => Graph.Opset >= 13
        ? Graph.Node("Unsqueeze", [this, Graph.Int64s(axes)], null)
        : Graph.Node("Unsqueeze", [this], null, ("axes", axes));

    /// <summary>Removes size-1 dimensions (all of them when no axes are given).</summary>
    public OnnxValue Squeeze(params long[] axes)
    {
        long[]? shape = Shape is null ? null
            : axes.Length == 0 ? [.. Shape.Where(d => d != 1)]
            : [.. Shape.Where((_, k) => !axes.Any(a => (a < 0 ? a + Shape.Length : a) == k))];
        if (axes.Length == 0) return Graph.Node("Squeeze", [this], shape);
        return Graph.Opset >= 13
            ? Graph.Node("Squeeze", [this, Graph.Int64s(axes)], shape)
            : Graph.Node("Squeeze", [this], shape, ("axes", axes));
    }

    OnnxValue Pool(string op, long kernel, long stride, long pad, bool ceilMode, long dilation, long[]? pads, string? autoPad,
        params (string, object)[] extra)
    {
        pads ??= [pad, pad, pad, pad];
        var attributes = new List<(string, object)> { ("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride, stride }) };
        if (dilation != 1) attributes.Add(("dilations", new[] { dilation, dilation }));
        if (ceilMode) attributes.Add(("ceil_mode", 1L));
        attributes.Add(autoPad is null ? ("pads", pads) : ("auto_pad", autoPad));
        attributes.AddRange(extra);
        return Graph.Node(op, [this], Windowed(Shape?[1] ?? -1, kernel, stride, dilation, pads, autoPad, ceilMode), [.. attributes]);
    }

    long[]? Windowed(long channels, long kernel, long stride, long dilation, long[] pads, string? autoPad, bool ceil)
    {
        if (Shape is not { Length: 4 } s) return null;
        long Size(int d)
        {
            long size = s[2 + d];
            if (size < 0) return -1;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER") return (size + stride - 1) / stride;
            bool valid = autoPad == "VALID";
            return OnnxOps.PoolOutputSize(size, valid ? 0 : pads[d], valid ? 0 : pads[2 + d], kernel, stride, dilation, ceil);
        }
        return [s[0], channels, Size(0), Size(1)];
    }

    static long Product(IEnumerable<long> dims) => dims.Any(d => d < 0) ? -1 : dims.Aggregate(1L, (a, b) => a * b);
}
