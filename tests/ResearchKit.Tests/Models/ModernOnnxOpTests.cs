using Google.Protobuf;
using Onnx;
using ResearchKit.TestSupport;

namespace ResearchKit.Tests.Models;

/// <summary>
/// The operators of today's torchvision, timm and tf2onnx exports (opsets 7–20) agree with ONNX Runtime on small
/// graphs with random weights, including the integer shape arithmetic exporters write around them.
/// </summary>
public class ModernOnnxOpTests
{
    const int H = 14, W = 17;

    static (OnnxGraphBuilder G, OnnxValue X) Image(int opset = 17, int channels = 3)
    {
        var g = new OnnxGraphBuilder(opset, seed: 2);
        return (g, g.Input("image", -1, channels, H, W));
    }

    static void Check(OnnxGraphBuilder g, OnnxValue x, params OnnxValue[] taps) => OnnxAgreement.Assert(g, x, taps);

    static long[] Ints(string csv) => csv.Length == 0 ? [] : [.. csv.Split(',').Select(long.Parse)];

    static float[] Floats(string csv) => [.. csv.Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];

    static TensorProto Scalar(long value, TensorProto.Types.DataType type = TensorProto.Types.DataType.Int64) => new()
    {
        DataType = (int)type, Dims = { 1 }, Int64Data = { value },
    };

    [Theory]
    [InlineData("HardSwish", 14)]
    [InlineData("HardSigmoid", 7)]
    [InlineData("Erf", 13)]
    [InlineData("Elu", 7)]
    [InlineData("Selu", 7)]
    [InlineData("Softplus", 7)]
    [InlineData("Softsign", 7)]
    [InlineData("Mish", 18)]
    [InlineData("Exp", 13)]
    [InlineData("Neg", 13)]
    [InlineData("Abs", 13)]
    [InlineData("Floor", 13)]
    [InlineData("Ceil", 13)]
    public void Element_wise_functions_over_their_whole_range(string op, int opset)
    {
        // Four times the input spans [-4, 4]: both sides of every clamp and kink.
        var (g, x) = Image(opset);
        var wide = x.Mul(g.Scalar(4f));
        Check(g, x, wide.Apply(op));
    }

    [Theory]
    [InlineData("HardSigmoid", "alpha", 0.16666667f, "beta", 0.5f)]
    [InlineData("HardSigmoid", "alpha", 0.3f, "beta", 0.4f)]
    [InlineData("Elu", "alpha", 0.7f, null, 0f)]
    [InlineData("Selu", "alpha", 1.5f, "gamma", 1.2f)]
    public void Element_wise_functions_with_their_attributes(string op, string a, float va, string? b, float vb)
    {
        var (g, x) = Image(13);
        var wide = x.Mul(g.Scalar(4f));
        Check(g, x, b is null ? wide.Apply(op, (a, va)) : wide.Apply(op, (a, va), (b, vb)));
    }

    [Fact]
    public void Logarithm_square_root_and_reciprocal_of_positive_values()
    {
        var (g, x) = Image(13);
        var positive = x.Apply("Abs").Add(g.Scalar(0.25f));
        Check(g, x, positive.Apply("Log"), positive.Apply("Sqrt"), positive.Apply("Reciprocal"));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void Gelu_of_opset_20(string approximate)
    {
        var (g, x) = Image(20);
        Check(g, x, x.Mul(g.Scalar(3f)).Apply("Gelu", ("approximate", approximate)));
    }

    [Fact]
    public void Gelu_as_pytorch_exports_it_before_opset_20()
    {
        // x · (erf(x / √2) + 1) · 0.5
        var (g, x) = Image(13);
        var erf = x.Div(g.Scalar(MathF.Sqrt(2))).Apply("Erf");
        Check(g, x, x.Mul(erf.Add(g.Scalar(1f))).Mul(g.Scalar(0.5f)));
    }

    [Fact]
    public void Pow_by_constants_and_by_values()
    {
        var (g, x) = Image(13);
        var squared = g.Node("Pow", [x, g.Scalar(2f)], x.Shape);
        var cubed = g.Node("Pow", [x, g.Scalar(3f)], x.Shape);
        var general = g.Node("Pow", [x.Apply("Abs").Add(g.Scalar(0.1f)), x], x.Shape);
        Check(g, x, squared, cubed, general);
    }

    [Fact]
    public void Min_max_and_mean_of_several_broadcast_values()
    {
        var (g, x) = Image(13);
        var perChannel = g.Normal([1, 3, 1, 1], 0.5);
        var perColumn = g.Normal([W], 0.5);
        Check(g, x,
            g.Node("Min", [x, perChannel, perColumn], x.Shape),
            g.Node("Max", [x, perChannel], x.Shape),
            g.Node("Mean", [x, perColumn, perChannel], x.Shape),
            g.Node("Max", [x], x.Shape));
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(-3, true)]
    public void LayerNormalization_over_trailing_dimensions(long axis, bool bias)
    {
        var (g, x) = Image(17);
        Check(g, x, x.Conv(8, 1).LayerNormalization(axis, 1e-5f, bias));
    }

    [Fact]
    public void LayerNormalization_on_tokens_as_a_transformer_has_them()
    {
        var (g, x) = Image(17);
        var tokens = x.Conv(8, 1).Reshape(0, 8, -1).Transpose(0, 2, 1);   // [N, H·W, 8]
        Check(g, x, tokens.LayerNormalization(-1, 1e-6f));
    }

    [Fact]
    public void InstanceNormalization_and_prelu()
    {
        var (g, x) = Image(13);
        var features = x.Conv(6, 3, pad: 1);
        Check(g, x, features.InstanceNormalization(1e-3f), features.PRelu(6, 1, 1), features.PRelu(1), features.PRelu(W));
    }

    [Theory]
    [InlineData("ReduceMean", 13, "2,3", true)]
    [InlineData("ReduceMean", 13, "1", false)]
    [InlineData("ReduceMean", 18, "-1", true)]
    [InlineData("ReduceMean", 13, "", true)]
    [InlineData("ReduceSum", 11, "2,3", false)]
    [InlineData("ReduceSum", 13, "1,-1", true)]
    [InlineData("ReduceSum", 13, "", false)]
    [InlineData("ReduceMax", 13, "1", true)]
    [InlineData("ReduceMax", 18, "2,3", false)]
    [InlineData("ReduceMin", 13, "3", true)]
    [InlineData("ReduceProd", 13, "1", true)]
    [InlineData("ReduceSumSquare", 13, "2", true)]
    [InlineData("ReduceL1", 13, "2,3", true)]
    [InlineData("ReduceL2", 18, "3", false)]
    public void Reductions_with_axes_as_attribute_or_input(string op, int opset, string axes, bool keep)
    {
        var (g, x) = Image(opset);
        bool asInput = opset >= 18 || (op == "ReduceSum" && opset >= 13);
        var keepAttribute = ("keepdims", (object)(keep ? 1L : 0L));
        var y = axes.Length == 0 ? g.Node(op, [x], null, keepAttribute)
            : asInput ? g.Node(op, [x, g.Int64s(Ints(axes))], null, keepAttribute)
            : g.Node(op, [x], null, keepAttribute, ("axes", Ints(axes)));
        Check(g, x, y);
    }

    [Fact]
    public void A_reduction_without_axes_may_be_asked_to_do_nothing()
    {
        var (g, x) = Image(18);
        Check(g, x, g.Node("ReduceSum", [x], x.Shape, ("noop_with_empty_axes", 1L)));
    }

    [Theory]
    [InlineData(13, "0,1", "3,7", "2,3", "1,2")]
    [InlineData(13, "-1", "-100", "3", "-1")]
    [InlineData(13, "10,-2", "1,0", "2,3", "-2,-1")]
    [InlineData(13, "1", "9223372036854775807", "1", "")]
    [InlineData(13, "-5", "-1", "-2", "")]
    [InlineData(9, "1,2", "100,-2", "2,3", "")]
    public void Slice_with_negative_indices_steps_and_clamped_bounds(int opset, string starts, string ends, string axes, string steps)
    {
        var (g, x) = Image(opset);
        OnnxValue y = opset < 10
            ? g.Node("Slice", [x], null, ("starts", Ints(starts)), ("ends", Ints(ends)), ("axes", Ints(axes)))
            : steps.Length == 0 ? g.Node("Slice", [x, g.Int64s(Ints(starts)), g.Int64s(Ints(ends)), g.Int64s(Ints(axes))], null)
            : g.Node("Slice", [x, g.Int64s(Ints(starts)), g.Int64s(Ints(ends)), g.Int64s(Ints(axes)), g.Int64s(Ints(steps))], null);
        Check(g, x, y);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Slice_bounds_computed_at_run_time_from_the_shape(int opset)
    {
        // ShuffleNet's chunk(2, dim=1) and a ViT's patch bookkeeping: Shape → Gather → Div → Unsqueeze → Slice.
        var (g, x) = Image(opset);
        var features = x.Conv(12, 1);
        var channels = features.ShapeOf().Gather(g.Int64(1));
        var half = g.Node("Div", [channels, g.Int64(2)], []);
        var end = g.Node("Mul", [half, g.Int64(2)], []);
        var first = g.Node("Slice", [features, g.Int64s(0), half.Unsqueeze(0), g.Int64s(1)], null);
        var second = g.Node("Slice", [features, half.Unsqueeze(0), end.Unsqueeze(0), g.Int64s(1)], null);
        Check(g, x, g.Node("Sub", [first, second], null));
    }

    [Fact]
    public void Integer_division_truncates_as_onnx_runtime_does()
    {
        // −7 / 2 is −3 (truncation), not −4 (floor) nor −3.5: the width left by the slice tells them apart.
        var (g, x) = Image(13);
        var end = g.Node("Div", [g.Int64s(-7), g.Int64s(2)], [1]);
        Check(g, x, g.Node("Slice", [x, g.Int64s(0), end, g.Int64s(3)], null));
    }

    [Theory]
    [InlineData(11, "4,8", 2)]
    [InlineData(13, "2,3,7", 3)]
    [InlineData(13, "", 3)]
    [InlineData(18, "", 5)]
    public void Split_by_sizes_or_into_equal_parts(int opset, string sizes, int parts)
    {
        var (g, x) = Image(opset);
        var features = x.Conv(parts == 5 ? 14 : 12, 1);   // 14 in parts of at most ⌈14 / 5⌉: 3, 3, 3, 3, 2
        var attributes = new List<(string, object)> { ("axis", 1L) };
        var inputs = new List<OnnxValue?> { features };
        if (sizes.Length > 0 && opset < 13) attributes.Add(("split", Ints(sizes)));
        if (sizes.Length > 0 && opset >= 13) inputs.Add(g.Int64s(Ints(sizes)));
        if (sizes.Length == 0 && opset >= 18) attributes.Add(("num_outputs", (long)parts));
        var outputs = g.Node("Split", inputs, parts, [.. attributes]);
        Check(g, x, [.. outputs.Select(o => o.Apply("Relu"))]);
    }

    [Fact]
    public void Expand_to_a_shape_computed_from_the_input()
    {
        var (g, x) = Image(13);
        var means = g.Node("ReduceMean", [x], [-1, 3, 1, 1], ("axes", new long[] { 2, 3 }));
        var expanded = g.Node("Expand", [means, x.ShapeOf()], x.Shape);
        var rows = g.Node("Expand", [g.Normal([W], 1), g.Int64s(1, 1, H, 1)], [1, 1, H, W]);
        Check(g, x, expanded, g.Node("Add", [x, rows], x.Shape));
    }

    [Fact]
    public void Comparisons_logic_and_where_choose_values()
    {
        var (g, x) = Image(13);
        var positive = g.Node("Greater", [x, g.Scalar(0f)], null);
        var small = g.Node("Less", [x, g.Scalar(0.5f)], null);
        var both = g.Node("And", [positive, g.Node("Not", [small], null)], null);
        var leaky = g.Node("Where", [positive, x, x.Mul(g.Scalar(0.1f))], x.Shape);
        var masked = g.Node("Where", [both, g.Scalar(1f), x], x.Shape);
        var atLeast = g.Node("Cast", [g.Node("GreaterOrEqual", [x, g.Scalar(0f)], null)], x.Shape, ("to", 1L));
        Check(g, x, leaky, masked, atLeast);
    }

    [Fact]
    public void Cast_to_integers_truncates_and_equal_compares_them()
    {
        var (g, x) = Image(13);
        var integers = g.Node("Cast", [x.Mul(g.Scalar(3f))], null, ("to", (long)TensorProto.Types.DataType.Int64));
        var back = g.Node("Cast", [integers], x.Shape, ("to", (long)TensorProto.Types.DataType.Float));
        var zero = g.Node("Equal", [integers, g.Int64(0)], null);
        Check(g, x, back, g.Node("Where", [zero, x, back], x.Shape));
    }

    [Fact]
    public void ConstantOfShape_range_and_tile_build_values_from_shapes()
    {
        var (g, x) = Image(13);
        var halves = g.Node("ConstantOfShape", [x.ShapeOf()], x.Shape, ("value", new TensorProto
        {
            DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 0.5f },
        }));
        var width = x.ShapeOf().Gather(g.Int64(3));
        var columns = g.Node("Cast", [g.Node("Range", [g.Int64(0), width, g.Int64(1)], null)], [W], ("to", 1L));
        var steps = g.Node("Range", [g.Scalar(-2f), g.Scalar(2.25f), g.Scalar(0.25f)], [W]);
        var tiled = g.Node("Tile", [x, g.Int64s(1, 2, 1, 3)], [-1, 6, H, 3 * W]);
        Check(g, x, x.Add(halves), x.Mul(columns), x.Add(steps), tiled);
    }

    [Fact]
    public void The_class_token_expanded_to_the_batch_as_torch_exports_it()
    {
        // torchvision's ViT: class_token.expand(n, -1, -1) becomes ConstantOfShape, Equal, Where and Expand.
        var (g, x) = Image(13);
        var tokens = x.Conv(8, 1).Reshape(0, 8, -1).Transpose(0, 2, 1);   // [N, HW, 8]
        var batch = x.ShapeOf().Gather(g.Int64(0)).Unsqueeze(0);
        var wanted = g.Concat(0, batch, g.Int64s(-1, -1));
        var ones = g.Node("ConstantOfShape", [g.Int64s(3)], [3], ("value", Scalar(1)));
        var minusOnes = g.Node("Mul", [ones, g.Int64(-1)], [3]);
        var keep = g.Node("Equal", [wanted, minusOnes], null);
        var shape = g.Node("Where", [keep, ones, wanted], null);
        var classToken = g.Node("Expand", [g.Normal([1, 1, 8], 1), shape], null);
        Check(g, x, g.Concat(1, classToken, tokens));
    }

    [Theory]
    [InlineData(13, "nearest", "asymmetric", "floor", "1,1,2,2", "")]
    [InlineData(13, "nearest", "half_pixel", "round_prefer_floor", "", "9,40")]
    [InlineData(13, "nearest", "asymmetric", "round_prefer_ceil", "", "20,11")]
    [InlineData(13, "nearest", "tf_half_pixel_for_nn", "ceil", "1,1,1.5,0.5", "")]
    [InlineData(13, "linear", "half_pixel", "", "1,1,1.5,2.5", "")]
    [InlineData(13, "linear", "pytorch_half_pixel", "", "1,1,0.5,0.5", "")]
    [InlineData(13, "linear", "align_corners", "", "", "28,9")]
    [InlineData(13, "linear", "asymmetric", "", "1,1,2,3", "")]
    [InlineData(13, "cubic", "half_pixel", "", "1,1,2,1.5", "")]
    [InlineData(13, "cubic", "align_corners", "", "", "21,30")]
    [InlineData(11, "nearest", "asymmetric", "floor", "1,1,2,2", "")]
    [InlineData(11, "linear", "align_corners", "", "", "7,34")]
    [InlineData(19, "linear", "half_pixel_symmetric", "", "1,1,1.7,0.8", "")]
    public void Resize_in_every_mode_from_scales_or_sizes(int opset, string mode, string coordinates, string nearest, string scales, string sizes)
    {
        var (g, x) = Image(opset);
        var attributes = new List<(string, object)> { ("mode", mode), ("coordinate_transformation_mode", coordinates) };
        if (nearest.Length > 0) attributes.Add(("nearest_mode", nearest));
        var roi = g.Floats();
        // Sizes keep the batch and channels of the input (ONNX Runtime resizes only the last two axes linearly).
        var y = scales.Length > 0
            ? g.Node("Resize", [x, roi, g.Floats(Floats(scales))], null, [.. attributes])
            : g.Node("Resize", [x, roi, g.Floats(), g.Concat(0, BatchAndChannels(g, x), g.Int64s(Ints(sizes)))], null, [.. attributes]);
        Check(g, x, y);
    }

    static OnnxValue BatchAndChannels(OnnxGraphBuilder g, OnnxValue x) =>
        g.Node("Slice", [x.ShapeOf(), g.Int64s(0), g.Int64s(2), g.Int64s(0)], [2]);

    [Theory]
    [InlineData("1.6,0.7", -0.5f, true)]
    [InlineData("1.6,1.3", -0.75f, true)]
    [InlineData("0.6,0.7", -0.75f, false)]
    public void Resize_cubic_with_its_options_on_opset_18_axes(string scales, float a, bool excludeOutside)
    {
        var (g, x) = Image(18);
        Check(g, x, g.Node("Resize", [x, null, g.Floats(Floats(scales))], null, ("mode", "cubic"), ("cubic_coeff_a", a),
            ("exclude_outside", excludeOutside ? 1L : 0L), ("axes", new long[] { 2, 3 })));
    }

    [Theory]
    [InlineData("not_larger")]
    [InlineData("not_smaller")]
    public void Resize_keeping_the_aspect_ratio(string policy)
    {
        var (g, x) = Image(18);
        Check(g, x, g.Node("Resize", [x, null, null, g.Int64s(20, 20)], null, ("mode", "linear"), ("axes", new long[] { 2, 3 }),
            ("keep_aspect_ratio_policy", policy)));
    }

    [Fact]
    public void Resize_to_sizes_computed_at_run_time_as_interpolate_to_a_size_exports()
    {
        // F.interpolate(y, size=x.shape[-2:]): the sizes are the input's spatial dimensions, computed from its shape.
        var (g, x) = Image(13);
        var small = x.Conv(4, 3, stride: 2, pad: 1);
        var spatial = g.Node("Slice", [x.ShapeOf(), g.Int64s(2), g.Int64s(4), g.Int64s(0)], [2]);
        var sizes = g.Concat(0, BatchAndChannels(g, small), spatial);
        Check(g, x, g.Node("Resize", [small, g.Floats(), g.Floats(), sizes], [-1, 4, H, W], ("mode", "linear")));
    }

    [Theory]
    [InlineData(10, "nearest")]
    [InlineData(10, "linear")]
    public void Resize_of_opset_10_is_upsample_by_another_name(int opset, string mode)
    {
        var (g, x) = Image(opset);
        Check(g, x, g.Node("Resize", [x, g.Floats(1, 1, 1.5f, 2)], null, ("mode", mode)),
            g.Node("Resize", [x, g.Floats(1, 1, 0.6f, 0.5f)], null, ("mode", mode)));
    }

    [Theory]
    [InlineData(7, "nearest")]
    [InlineData(7, "linear")]
    [InlineData(9, "nearest")]
    [InlineData(9, "linear")]
    public void Upsample_with_scales_as_attribute_or_input(int opset, string mode)
    {
        var (g, x) = Image(opset);
        var y = opset < 9
            ? g.Node("Upsample", [x], null, ("mode", mode), ("scales", new[] { 1f, 1f, 2f, 1.5f }))
            : g.Node("Upsample", [x, g.Floats(1, 1, 2f, 1.5f)], null, ("mode", mode));
        Check(g, x, y);
    }

    [Theory]
    [InlineData(3, 2, "1,1,1,1", "1,1", 1, 1, null, null)]
    [InlineData(4, 2, "1,1,1,1", "", 1, 1, null, null)]
    [InlineData(3, 2, "0,1,1,0", "0,1", 1, 1, null, null)]
    [InlineData(3, 1, "2,2,2,2", "", 2, 2, null, null)]
    [InlineData(3, 3, "1,0,2,1", "2,1", 1, 3, null, null)]
    [InlineData(2, 2, "", "", 1, 6, null, null)]
    [InlineData(3, 2, "", "", 1, 1, "SAME_UPPER", null)]
    [InlineData(3, 2, "", "", 1, 1, "SAME_LOWER", null)]
    [InlineData(3, 2, "", "", 1, 1, null, "29,36")]
    [InlineData(3, 1, "", "", 3, 1, "VALID", null)]
    public void ConvTranspose_with_pads_output_padding_groups_and_dilations(long kernel, long stride, string pads, string outputPadding,
        long dilation, long group, string? autoPad, string? outputShape)
    {
        var (g, x) = Image(13);
        var features = x.Conv(6, 1);
        var y = features.ConvTranspose(6, kernel, stride, pads.Length > 0 ? Ints(pads) : null,
            outputPadding.Length > 0 ? Ints(outputPadding) : null, dilation, group, autoPad, outputShape is null ? null : Ints(outputShape));
        Check(g, x, y);
    }

    [Theory]
    [InlineData(12, 12, 2, 1, 1)]
    [InlineData(12, 12, 4, 2, 1)]
    [InlineData(12, 24, 6, 1, 2)]
    [InlineData(12, 24, 12, 1, 1)]
    [InlineData(12, 12, 12, 2, 2)]
    [InlineData(16, 16, 16, 1, 3)]
    public void Grouped_and_depthwise_convolutions_with_any_group_count(long inputs, long outputs, long groups, long stride, long dilation)
    {
        var (g, x) = Image(13);
        var features = x.Conv(inputs, 1).Relu();
        Check(g, x, features.Conv(outputs, 3, stride, pad: dilation, dilation: dilation, group: groups));
    }

    [Fact]
    public void Einsum_for_channel_mixing_attention_and_transposes()
    {
        var (g, x) = Image(13);
        var mixed = g.Node("Einsum", [x, g.Normal([5, 3], 1)], [-1, 5, H, W], ("equation", "bchw,dc->bdhw"));
        var tokens = x.Reshape(0, 3, -1);                                  // [N, 3, HW]
        var scores = g.Node("Einsum", [tokens, tokens], [-1, 3, 3], ("equation", "bik,bjk->bij"));
        var transposed = g.Node("Einsum", [x], [-1, 3, W, H], ("equation", "...ij->...ji"));
        Check(g, x, mixed, scores, transposed);
    }

    [Fact]
    public void ArgMax_and_argmin_pick_indices()
    {
        var (g, x) = Image(13);
        var argmax = g.Node("ArgMax", [x], null, ("axis", 1L), ("keepdims", 1L));
        var argmin = g.Node("ArgMin", [x], null, ("axis", -1L), ("keepdims", 0L), ("select_last_index", 1L));
        Check(g, x, g.Node("Cast", [argmax], null, ("to", 1L)), g.Node("Cast", [argmin], null, ("to", 1L)));
    }
}
