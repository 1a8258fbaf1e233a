using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models.Onnx;

// Operators that reshape, select, reduce and convert: the shape arithmetic of exported graphs. Integer values stay
// int64 tensors on the CPU throughout, so sizes computed at run time (Shape → Gather → Div → Slice) are exact.
public static partial class OnnxOps
{
    /// <summary>The values of a 1-D (or 0-D) integer tensor: shapes, axes, repeats.</summary>
    static long[] Longs(Tensor t) => t.to_type(ScalarType.Int64).cpu().data<long>().ToArray();

    /// <summary>Numpy's broadcasting of two shapes (ONNX's multidirectional broadcasting, as Expand uses it).</summary>
    static long[] Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new long[rank];
        for (int k = 1; k <= rank; k++)
        {
            long x = k <= a.Length ? a[^k] : 1, y = k <= b.Length ? b[^k] : 1;
            if (x != y && x != 1 && y != 1)
                throw new InvalidSettingException($"shapes [{string.Join(",", a)}] and [{string.Join(",", b)}] do not broadcast");
            shape[rank - k] = x == 1 ? y : x;
        }
        return shape;
    }

    /// <summary>
    /// The kit computes floating-point values in its own precision (float32, or bfloat16 in that mode), integers as
    /// int64 (exact for every narrower type) and booleans as booleans; Cast converts between those three kinds.
    /// </summary>
    static Tensor[] Cast(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        var to = (TensorProto.Types.DataType)node.Int("to", 0);
        return to switch
        {
            TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16
                or TensorProto.Types.DataType.Bfloat16 => [x.is_floating_point() ? x : x.to_type(ScalarType.Float32)],
            TensorProto.Types.DataType.Bool => [x.dtype == ScalarType.Bool ? x : x.ne(0)],
            TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int16
                or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Uint16
                or TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => [x.to_type(ScalarType.Int64)],
            _ => throw new UnsupportedOperatorException($"{node}: casting to {to} is not supported (float, integer and bool types are)"),
        };
    }

    static Tensor[] ConstantOfShape(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var shape = Longs(In(i, 0));
        using var value = node.TensorAttribute("value") is { } proto ? OnnxTensors.ToTensor(proto, node.Name, null) : tensor(0f);
        if (value.numel() != 1) throw new ModelLoadException($"{node}: the value must hold one element, not {value.numel()}");
        var scalar = value.reshape([]);
        return [shape.Length == 0 ? scalar.clone() : scalar.expand(shape).contiguous()];
    }

    // start, start + delta, ... up to (excluding) limit; ONNX Runtime counts ⌈(limit − start) / delta⌉ elements.
    static Tensor[] Range(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var (start, limit, delta) = (In(i, 0), In(i, 1), In(i, 2));
        if (!start.is_floating_point())
        {
            long a = start.item<long>(), b = limit.item<long>(), step = delta.item<long>();
            if (step == 0) throw new InvalidSettingException($"{node}: delta is 0");
            return [arange(a, b, step, ScalarType.Int64, CPU)];
        }
        double first = start.to_type(ScalarType.Float64).item<double>(), last = limit.to_type(ScalarType.Float64).item<double>();
        double by = delta.to_type(ScalarType.Float64).item<double>();
        long count = Math.Max(0, (long)Math.Ceiling((last - first) / by));
        return [(arange(count, ScalarType.Float64, CPU) * by + first).to_type(start.dtype)];
    }

    /// <summary>
    /// Opset 10's Slice (starts, ends, axes, steps as inputs; attributes before): negative indices count from the end,
    /// bounds are clamped to the dimension, and negative steps walk backwards.
    /// </summary>
    static Tensor[] Slice(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long[] starts, ends, axes, steps;
        if (node.Opset < 10)
        {
            starts = node.Ints("starts") ?? throw new ModelLoadException($"{node} has no starts");
            ends = node.Ints("ends") ?? throw new ModelLoadException($"{node} has no ends");
            axes = node.Ints("axes") ?? [.. Enumerable.Range(0, starts.Length).Select(a => (long)a)];
            steps = [.. starts.Select(_ => 1L)];
        }
        else
        {
            (starts, ends) = (Longs(In(i, 1)), Longs(In(i, 2)));
            axes = Optional(i, 3) is { } a ? Longs(a) : [.. Enumerable.Range(0, starts.Length).Select(k => (long)k)];
            steps = Optional(i, 4) is { } s ? Longs(s) : [.. starts.Select(_ => 1L)];
        }
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new InvalidSettingException($"{starts.Length} starts, {ends.Length} ends, {axes.Length} axes and {steps.Length} steps do not match");
        for (int k = 0; k < starts.Length; k++)
        {
            long axis = axes[k] < 0 ? axes[k] + x.dim() : axes[k], size = x.shape[axis], step = steps[k];
            if (step == 0) throw new InvalidSettingException("a slice step is 0");
            long start = starts[k] < 0 ? starts[k] + size : starts[k], end = ends[k] < 0 ? ends[k] + size : ends[k];
            if (step > 0)
            {
                start = Math.Clamp(start, 0, size);
                end = Math.Clamp(end, 0, size);
                x = x.slice(axis, start, Math.Max(start, end), step);
            }
            else
            {
                start = Math.Clamp(start, 0, size - 1);
                end = Math.Clamp(end, -1, size - 1);
                var picked = new List<long>();
                for (long p = start; p > end; p += step) picked.Add(p);
                x = x.index_select(axis, tensor(picked.ToArray(), device: x.device));
            }
        }
        return [x];
    }

    // Sizes from the attribute (before opset 13) or the input; without them, equal parts, one per output (opset 18's
    // num_outputs makes the last part smaller when the dimension does not divide).
    static Tensor[] Split(OnnxNode node, IReadOnlyList<Tensor?> i)
    {
        var x = In(i, 0);
        long axis = node.Int("axis", 0);
        if (axis < 0) axis += x.dim();
        long size = x.shape[axis];
        var sizes = node.Opset < 13 ? node.Ints("split") : Optional(i, 1) is { } s ? Longs(s) : null;
        if (sizes is null)
        {
            long parts = node.Int("num_outputs", node.Outputs.Count);
            long each = node.Has("num_outputs") ? (size + parts - 1) / parts : size / parts;
            sizes = [.. Enumerable.Range(0, (int)parts).Select(p => Math.Min(each, size - p * each))];
        }
        if (sizes.Sum() != size)
            throw new InvalidSettingException($"split sizes [{string.Join(",", sizes)}] do not add up to dimension {axis}'s {size}");
        return x.split(sizes, axis);
    }

    /// <summary>
    /// A reduction over axes given as an attribute, or as an input from <paramref name="axesInputFrom"/> on. No axes
    /// means all of them, unless noop_with_empty_axes asks for the input unchanged.
    /// </summary>
    static OnnxKernel Reduce(Func<Tensor, long[], bool, Tensor> reduce, int axesInputFrom) => (node, i) =>
    {
        var x = In(i, 0);
        var axes = node.Opset < axesInputFrom ? node.Ints("axes") : Optional(i, 1) is { } a ? Longs(a) : null;
        if (axes is null or { Length: 0 })
        {
            if (node.Int("noop_with_empty_axes", 0) != 0) return [x];
            axes = [.. Enumerable.Range(0, (int)x.dim()).Select(d => (long)d)];
        }
        axes = [.. axes.Select(a => a < 0 ? a + x.dim() : a).Distinct()];
        return [reduce(x, axes, node.Int("keepdims", 1) != 0)];
    };

    static Tensor ArgExtreme(OnnxNode node, Tensor x, bool max)
    {
        long axis = node.Int("axis", 0);
        bool keep = node.Int("keepdims", 1) != 0;
        if (node.Int("select_last_index", 0) == 0) return max ? x.argmax(axis, keep) : x.argmin(axis, keep);
        // The last of equal extremes: search the reversed axis and map the index back.
        long last = x.shape[axis < 0 ? axis + x.dim() : axis] - 1;
        var flipped = x.flip(axis);
        return last - (max ? flipped.argmax(axis, keep) : flipped.argmin(axis, keep));
    }
}
