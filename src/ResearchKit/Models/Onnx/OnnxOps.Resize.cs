using static TorchSharp.torch;

namespace ResearchKit.Models.Onnx;

// Resize and Upsample, one axis at a time: each output position reads one (nearest), two (linear) or four (cubic)
// input positions with weights, computed here exactly as ONNX Runtime computes them (in float32), then gathered with
// index_select, which keeps the result differentiable with respect to the input.
public static partial class OnnxOps
{
    static Tensor[] Resize(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        // Opset 10: (X, scales). Opset 11 on: (X, roi, scales, sizes), any of the last three possibly empty.
        Tensor? scalesInput = node.Opset < 11 ? In(i, 1) : Optional(i, 2);
        Tensor? sizesInput = node.Opset < 11 ? null : Optional(i, 3);
        float[]? scales = scalesInput is { } s && s.numel() > 0 ? s.to_type(ScalarType.Float32).cpu().data<float>().ToArray() : null;
        long[]? sizes = sizesInput is { } z && z.numel() > 0 ? Longs(z) : null;
        if (scales is null && sizes is null) throw new ModelLoadException($"{node} has neither scales nor sizes");
        if (node.Ints("axes") is { } axes) (scales, sizes) = OnAllAxes(x, axes, scales, sizes);
        (scales, sizes) = KeepAspectRatio(node, x, scales, sizes);
        if (node.Int("antialias", 0) != 0 && Enumerable.Range(0, (int)x.dim()).Any(d => OutputSize(x, d, scales, sizes).Scale < 1))
            throw new UnsupportedOperatorException($"{node}: antialiased downscaling is not supported");
        // Opset 10's Resize is Upsample under a new name: asymmetric coordinates and Upsample's nearest rule.
        var coordinates = node.Opset < 11 ? "asymmetric" : node.String("coordinate_transformation_mode", "half_pixel");
        var nearest = node.Opset < 11 ? "simple" : node.String("nearest_mode", "round_prefer_floor");
        return [Interpolate(node, x, scales, sizes, node.String("mode", "nearest"), coordinates, nearest,
            node.Float("cubic_coeff_a", -0.75f), node.Int("exclude_outside", 0) != 0)];
    }

    // Opsets 7–9: scales as an attribute (7, 8) or an input (9); asymmetric coordinates.
    static Tensor[] Upsample(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var scales = node.Opset < 9 ? node.Floats("scales") ?? throw new ModelLoadException($"{node} has no scales")
            : In(i, 1).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        var mode = node.String("mode", "nearest") is "bilinear" ? "linear" : node.String("mode", "nearest");
        return [Interpolate(node, x, scales, null, mode, "asymmetric", "simple", -0.75f, false)];
    }

    // Opset 18: scales or sizes name only the listed axes; the others keep their size.
    static (float[]? Scales, long[]? Sizes) OnAllAxes(Tensor x, long[] axes, float[]? scales, long[]? sizes)
    {
        var allScales = scales is null ? null : Enumerable.Repeat(1f, (int)x.dim()).ToArray();
        var allSizes = sizes is null ? null : x.shape.ToArray();
        for (int k = 0; k < axes.Length; k++)
        {
            long a = axes[k] < 0 ? axes[k] + x.dim() : axes[k];
            if (allScales is not null) allScales[a] = scales![k];
            if (allSizes is not null) allSizes[a] = sizes![k];
        }
        return (allScales, allSizes);
    }

    // Opset 18's keep_aspect_ratio_policy: one scale for every resized axis, the largest that fits inside the sizes
    // (not_larger) or the smallest that covers them (not_smaller); output sizes rounded half away from zero, and
    // coordinates mapped with that one scale.
    static (float[]? Scales, long[]? Sizes) KeepAspectRatio(OnnxNode node, Tensor x, float[]? scales, long[]? sizes)
    {
        var policy = node.String("keep_aspect_ratio_policy", "stretch");
        if (sizes is null || policy == "stretch") return (scales, sizes);
        var resized = Enumerable.Range(0, sizes.Length).Where(d => sizes[d] != x.shape[d]).ToList();
        if (resized.Count == 0) return (scales, sizes);
        var ratios = resized.Select(d => (float)sizes[d] / x.shape[d]).ToList();
        float scale = policy switch
        {
            "not_larger" => ratios.Min(),
            "not_smaller" => ratios.Max(),
            _ => throw new UnsupportedOperatorException($"{node}: keep_aspect_ratio_policy '{policy}' is not supported"),
        };
        var kept = x.shape.ToArray();
        var common = Enumerable.Repeat(1f, kept.Length).ToArray();
        foreach (var d in resized) (kept[d], common[d]) = ((long)MathF.Round(scale * x.shape[d], MidpointRounding.AwayFromZero), scale);
        return (common, kept);
    }

    // ONNX Runtime: output = ⌊input × scale⌋ (in float32); with sizes, scale = output / input unless also given.
    static (long Size, float Scale) OutputSize(Tensor x, int axis, float[]? scales, long[]? sizes)
    {
        long input = x.shape[axis];
        if (sizes is not null) return (sizes[axis], scales?[axis] ?? (float)sizes[axis] / input);
        return ((long)MathF.Floor(input * scales![axis]), scales[axis]);
    }

    static Tensor Interpolate(OnnxNode node, Tensor x, float[]? scales, long[]? sizes, string mode, string coordinates,
        string nearest, float cubicA, bool excludeOutside)
    {
        int rank = (int)x.dim();
        if ((scales?.Length ?? sizes!.Length) != rank)
            throw new InvalidSettingException($"{scales?.Length ?? sizes!.Length} scales or sizes for an input of rank {rank}");
        if (mode is not ("nearest" or "linear" or "cubic"))
            throw new UnsupportedOperatorException($"{node}: mode '{mode}' is not supported (nearest, linear, cubic are)");
        for (int axis = 0; axis < rank; axis++)
        {
            var (output, scale) = OutputSize(x, axis, scales, sizes);
            long input = x.shape[axis];
            if (output == input && scale == 1f) continue;
            if (output < 0 || output > MaxResizedLength)
                throw new InvalidSettingException($"resizing axis {axis} from {input} to {output} positions is out of range; the file is probably corrupt");
            var taps = new List<(long[] Index, float[] Weight)>();
            for (long o = 0; o < output; o++)
            {
                float original = OriginalCoordinate(node, coordinates, o, scale, input, output);
                var (index, weight) = mode switch
                {
                    "nearest" => ([NearestIndex(node, nearest, original, scale)], [1f]),
                    "linear" => LinearTaps(Math.Clamp(original, 0, input - 1)),
                    _ => CubicTaps(original, cubicA, excludeOutside, input),
                };
                if (taps.Count == 0) taps.AddRange(index.Select(_ => (new long[output], new float[output])));
                for (int t = 0; t < index.Length; t++)
                    (taps[t].Index[o], taps[t].Weight[o]) = (Math.Clamp(index[t], 0, input - 1), weight[t]);
            }
            x = WeightedSum(x, axis, taps);
        }
        return x;
    }

    const long MaxResizedLength = 1 << 20;

    static Tensor WeightedSum(Tensor x, int axis, List<(long[] Index, float[] Weight)> taps)
    {
        var along = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        along[axis] = -1;
        Tensor? sum = null;
        foreach (var (index, weight) in taps)
        {
            var picked = x.index_select(axis, tensor(index, device: x.device));
            if (taps.Count > 1) picked = picked * tensor(weight, dtype: x.dtype, device: x.device).reshape(along);
            sum = sum is null ? picked : sum + picked;
        }
        return sum ?? x;
    }

    static float OriginalCoordinate(OnnxNode node, string mode, long o, float scale, long input, long output) => mode switch
    {
        "half_pixel" => (o + 0.5f) / scale - 0.5f,
        "pytorch_half_pixel" => output > 1 ? (o + 0.5f) / scale - 0.5f : 0f,
        "align_corners" => output == 1 ? 0f : o * (float)(input - 1) / (output - 1),
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nn" => (o + 0.5f) / scale,
        "half_pixel_symmetric" => input / 2f * (1 - output / (scale * input)) + (o + 0.5f) / scale - 0.5f,
        _ => throw new UnsupportedOperatorException($"{node}: coordinate_transformation_mode '{mode}' is not supported"),
    };

    // ONNX Runtime's rules; "simple" is Upsample's (and opset 10 Resize's): truncate, or round up when shrinking.
    static long NearestIndex(OnnxNode node, string rule, float x, float scale) => rule switch
    {
        "round_prefer_floor" => x == (long)x + 0.5f ? (long)MathF.Floor(x) : (long)MathF.Round(x, MidpointRounding.AwayFromZero),
        "round_prefer_ceil" => x == (long)x + 0.5f ? (long)MathF.Ceiling(x) : (long)MathF.Round(x, MidpointRounding.AwayFromZero),
        "floor" => (long)MathF.Floor(x),
        "ceil" => (long)MathF.Ceiling(x),
        "simple" => scale < 1 ? (long)MathF.Ceiling(x) : (long)x,
        _ => throw new UnsupportedOperatorException($"{node}: nearest_mode '{rule}' is not supported"),
    };

    static (long[], float[]) LinearTaps(float x)
    {
        long left = (long)MathF.Floor(x);
        float right = x - left;
        return ([left, left + 1], [1 - right, right]);
    }

    // Keys' cubic convolution with coefficient a over the four neighbours; outside the input the edge repeats, or
    // with exclude_outside those taps get no weight and the rest are renormalized.
    static (long[], float[]) CubicTaps(float x, float a, bool excludeOutside, long input)
    {
        long left = (long)MathF.Floor(x);
        float t = x - left;
        static float Near(float d, float a) => ((a + 2) * d - (a + 3)) * d * d + 1;
        static float Far(float d, float a) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
        long[] index = [left - 1, left, left + 1, left + 2];
        float[] weight = [Far(t + 1, a), Near(t, a), Near(1 - t, a), Far(2 - t, a)];
        if (excludeOutside)
        {
            for (int k = 0; k < 4; k++) if (index[k] < 0 || index[k] >= input) weight[k] = 0;
            float total = weight.Sum();
            for (int k = 0; k < 4; k++) weight[k] /= total;
        }
        return (index, weight);
    }
}
