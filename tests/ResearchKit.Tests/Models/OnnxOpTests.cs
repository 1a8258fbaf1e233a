using ResearchKit.TestSupport;
using Onnx;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Models;

/// <summary>Every operator of the importer's table agrees with ONNX Runtime on small graphs with random weights.</summary>
public class OnnxOpTests
{
    const int H = 14, W = 17;

    static (OnnxGraphBuilder G, OnnxValue X) Image(int opset = 13, int seed = 0)
    {
        var g = new OnnxGraphBuilder(opset, seed);
        return (g, g.Input("image", -1, 3, H, W));
    }

    // A 1x1 convolution to 12 channels: a feature map with more channels than the image.
    static OnnxValue Stem(OnnxValue x) => x.Conv(12, 1);

    static void Check(OnnxGraphBuilder g, OnnxValue x, params OnnxValue[] taps) => OnnxAgreement.Assert(g, x, taps);

    static long[] Ints(string csv) => csv.Length == 0 ? [] : [.. csv.Split(',').Select(long.Parse)];

    [Theory]
    [InlineData(3, 1, "1,1,1,1", 1, 1, null, true)]
    [InlineData(5, 2, "1,2,2,1", 1, 1, null, true)]
    [InlineData(3, 1, "2,2,2,2", 2, 1, null, true)]
    [InlineData(3, 2, "0,1,0,1", 1, 3, null, true)]
    [InlineData(3, 1, "1,1,1,1", 1, 12, null, false)]
    [InlineData(4, 2, "", 1, 1, "SAME_UPPER", true)]
    [InlineData(4, 2, "", 1, 1, "SAME_LOWER", true)]
    [InlineData(5, 3, "", 1, 1, "SAME_LOWER", true)]
    [InlineData(3, 2, "", 1, 1, "VALID", true)]
    public void Conv(long kernel, long stride, string pads, long dilation, long group, string? autoPad, bool bias)
    {
        var (g, x) = Image();
        var stem = Stem(x);
        var y = stem.Conv(group == 12 ? 12 : 6, kernel, stride, dilation: dilation, group: group,
            pads: pads.Length > 0 ? Ints(pads) : null, autoPad: autoPad, bias: bias);
        Check(g, x, stem, y);
    }

    // libtorch 2.10's oneDNN convolutions (AVX2/AVX-512 kernels) get input channels that are not a multiple of the
    // vector width wrong on this project's machines; GoogLeNet's inception_4b/5x5 (24 channels) is one such layer.
    [Theory]
    [InlineData(20, 3)]
    [InlineData(24, 5)]
    [InlineData(40, 3)]
    public void Conv_with_input_channels_off_the_vector_width(long channels, long kernel)
    {
        var (g, x) = Image();
        var features = x.Conv(channels, 1).Relu();
        Check(g, x, features.Conv(16, kernel, pad: kernel / 2));
    }

    [Fact]
    public void Conv_on_the_image_with_groups_per_colour()
    {
        var (g, x) = Image();
        Check(g, x, x.Conv(6, 3, pad: 1, group: 3));
    }

    [Theory]
    [InlineData(9, 1e-5f)]
    [InlineData(13, 1e-3f)]
    public void BatchNormalization(int opset, float epsilon)
    {
        var (g, x) = Image(opset);
        Check(g, x, Stem(x).BatchNormalization(epsilon));
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    public void Activations(string op)
    {
        var (g, x) = Image();
        var y = op switch
        {
            "Relu" => x.Relu(),
            "LeakyRelu" => x.LeakyRelu(0.2f),
            "Sigmoid" => x.Sigmoid(),
            _ => x.Tanh(),
        };
        Check(g, x, y);
    }

    [Fact]
    public void LeakyRelu_default_slope()
    {
        var (g, x) = Image();
        Check(g, x, x.Apply("LeakyRelu"));
    }

    [Theory]
    [InlineData(3, 2, "0,0,0,0", true, 1, null)]
    [InlineData(3, 2, "1,1,1,1", false, 1, null)]
    [InlineData(3, 2, "0,0,1,1", false, 1, null)]
    [InlineData(3, 2, "1,0,0,1", true, 1, null)]
    [InlineData(2, 2, "1,1,1,1", true, 1, null)]
    [InlineData(5, 3, "2,2,2,2", true, 1, null)]
    [InlineData(3, 1, "1,1,1,1", false, 2, null)]
    [InlineData(3, 2, "2,2,2,2", true, 2, null)]
    [InlineData(3, 2, "0,2,1,0", false, 2, null)]
    [InlineData(3, 2, "", false, 1, "SAME_UPPER")]
    [InlineData(4, 2, "", false, 1, "SAME_LOWER")]
    [InlineData(3, 2, "", true, 1, "VALID")]
    public void MaxPool(long kernel, long stride, string pads, bool ceil, long dilation, string? autoPad)
    {
        var (g, x) = Image();
        Check(g, x, x.MaxPool(kernel, stride, ceilMode: ceil, dilation: dilation, pads: pads.Length > 0 ? Ints(pads) : null, autoPad: autoPad));
    }

    [Theory]
    [InlineData(3, 2, "0,0,0,0", false, false, null)]
    [InlineData(3, 2, "1,1,1,1", false, false, null)]
    [InlineData(3, 2, "1,1,1,1", false, true, null)]
    [InlineData(3, 2, "0,0,1,1", false, false, null)]
    [InlineData(3, 2, "0,0,1,1", false, true, null)]
    [InlineData(3, 2, "1,1,1,1", true, false, null)]
    [InlineData(3, 2, "1,1,1,1", true, true, null)]
    [InlineData(3, 2, "0,0,0,0", true, false, null)]
    [InlineData(3, 2, "0,0,0,0", true, true, null)]
    [InlineData(2, 2, "1,0,0,1", true, true, null)]
    [InlineData(2, 2, "1,0,0,1", true, false, null)]
    [InlineData(5, 3, "2,1,0,2", true, true, null)]
    [InlineData(3, 2, "", false, false, "SAME_UPPER")]
    [InlineData(4, 2, "", false, true, "SAME_LOWER")]
    public void AveragePool(long kernel, long stride, string pads, bool ceil, bool countIncludePad, string? autoPad)
    {
        var (g, x) = Image();
        Check(g, x, x.AveragePool(kernel, stride, ceilMode: ceil, countIncludePad: countIncludePad,
            pads: pads.Length > 0 ? Ints(pads) : null, autoPad: autoPad));
    }

    [Fact]
    public void Global_pools()
    {
        var (g, x) = Image();
        var stem = Stem(x);
        Check(g, x, stem.GlobalAveragePool(), stem.Apply("GlobalMaxPool") with { Shape = [-1, 12, 1, 1] });
    }

    [Theory]
    [InlineData(5, 1e-4f, 0.75f, 1f)]
    [InlineData(5, 0.5f, 0.75f, 1f)]
    [InlineData(3, 0.2f, 0.5f, 2f)]
    [InlineData(1, 1f, 1f, 0.5f)]
    public void Lrn(long size, float alpha, float beta, float bias)
    {
        var (g, x) = Image();
        Check(g, x, Stem(x).Lrn(size, alpha, beta, bias));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Concat(long axis)
    {
        var (g, x) = Image();
        var a = x.Conv(4, 3, pad: 1);
        var b = x.Conv(4, 1);
        Check(g, x, g.Concat(axis, a, b, x.Conv(4, 1).Relu()));
    }

    [Theory]
    [InlineData(false, true, 1f, 1f, "vector")]
    [InlineData(false, false, 0.5f, 2f, "row")]
    [InlineData(true, true, 1.5f, 0.25f, "matrix")]
    [InlineData(true, false, 1f, 1f, "scalar")]
    [InlineData(false, true, 2f, 1f, "none")]
    public void Gemm(bool transA, bool transB, float alpha, float beta, string bias)
    {
        var (g, x) = Image();
        var features = Stem(x).GlobalAveragePool().Flatten();
        var a = transA ? features.Transpose(1, 0) : features;
        var w = g.Normal(transB ? [5, 12] : [12, 5], 0.3);
        OnnxValue? c = bias switch
        {
            "vector" => g.Normal([5], 1),
            "row" => g.Normal([1, 5], 1),
            "matrix" => g.Normal([2, 5], 1),
            "scalar" => g.Normal([1], 1),
            _ => null,
        };
        var y = g.Node("Gemm", c is null ? [a, w] : [a, w, c], [2, 5],
            ("transA", transA ? 1L : 0L), ("transB", transB ? 1L : 0L), ("alpha", alpha), ("beta", beta));
        Check(g, x, y);
    }

    [Fact]
    public void Gemm_from_the_builder_as_exporters_write_it()
    {
        var (g, x) = Image();
        Check(g, x, Stem(x).GlobalAveragePool().Flatten().Gemm(7));
    }

    [Fact]
    public void MatMul_of_features_and_of_image_rows()
    {
        var (g, x) = Image();
        Check(g, x, Stem(x).GlobalAveragePool().Flatten().MatMul(5), x.MatMul(4));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Flatten(long axis)
    {
        var (g, x) = Image();
        Check(g, x, x.Flatten(axis));
    }

    [Theory]
    [InlineData("0,-1")]
    [InlineData("0,0,-1")]
    [InlineData("-1,17")]
    [InlineData("0,3,-1,1")]
    [InlineData("0,-1,17")]
    public void Reshape(string shape)
    {
        var (g, x) = Image();
        Check(g, x, x.Reshape(Ints(shape)));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(13)]
    public void Dropout_is_the_identity_at_inference(int opset)
    {
        var (g, x) = Image(opset);
        Check(g, x, x.Dropout(0.3f).Relu());
    }

    [Fact]
    public void Dropout_with_a_mask_output()
    {
        var (g, x) = Image(13);
        var y = g.Node("Dropout", [x], 2)[0] with { Shape = x.Shape };
        Check(g, x, y.Relu());
    }

    [Theory]
    [InlineData(13, null)]
    [InlineData(13, 1L)]
    [InlineData(13, 2L)]
    [InlineData(11, null)]
    [InlineData(11, 1L)]
    [InlineData(11, 2L)]
    [InlineData(11, -1L)]
    public void Softmax_on_image_maps(int opset, long? axis)
    {
        var (g, x) = Image(opset);
        Check(g, x, x.Softmax(axis));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Softmax_on_features(int opset)
    {
        var (g, x) = Image(opset);
        Check(g, x, Stem(x).GlobalAveragePool().Flatten().Softmax());
    }

    [Theory]
    [InlineData(11, "constant", "0,0,1,2,0,0,2,1")]
    [InlineData(11, "reflect", "0,0,1,2,0,0,2,1")]
    [InlineData(11, "edge", "0,0,1,2,0,0,2,1")]
    [InlineData(11, "constant", "0,1,0,0,0,2,0,0")]
    [InlineData(11, "constant", "0,0,-1,1,0,0,1,-2")]
    [InlineData(11, "edge", "0,0,0,3,0,0,0,0")]
    [InlineData(10, "constant", "0,0,1,2,0,0,2,1")]
    [InlineData(10, "reflect", "0,0,2,1,0,0,1,2")]
    [InlineData(10, "edge", "0,0,1,0,0,0,3,1")]
    [InlineData(9, "constant", "0,1,0,0,0,2,0,0")]
    public void Pad(int opset, string mode, string pads)
    {
        var (g, x) = Image(opset);
        Check(g, x, x.Pad(Ints(pads), mode, value: 0.75f));
    }

    [Fact]
    public void Pad_with_axes_input()
    {
        var (g, x) = Image(18);
        var y = g.Node("Pad", [x, g.Int64s(1, 2, 3, 0), g.Scalar(-2f), g.Int64s(2, 3)], [-1, 3, H + 4, W + 2], ("mode", "constant"));
        Check(g, x, y);
    }

    [Fact]
    public void Arithmetic_with_constants_and_branches()
    {
        var (g, x) = Image();
        var perChannel = x.Mul(g.Normal([1, 3, 1, 1], 1));
        var shifted = x.Sub(g.Scalar(0.25f));
        var scaled = x.Div(g.Uniform([1, 1, 1, W], 0.5, 2));
        var flipped = g.Node("Sub", [g.Normal([3, 1, 1], 1), x], x.Shape);
        var sum = g.Sum(perChannel, shifted, scaled);
        var broadcastSum = g.Node("Sum", [x, g.Normal([1, 3, 1, 1], 1)], x.Shape);
        var added = perChannel.Add(flipped);
        Check(g, x, perChannel, shifted, scaled, flipped, sum, broadcastSum, added);
    }

    [Theory]
    [InlineData(6, -0.5f, 0.25f)]
    [InlineData(6, -0.5f, null)]
    [InlineData(6, null, 0.25f)]
    [InlineData(11, -0.5f, 0.25f)]
    [InlineData(11, null, 0.25f)]
    [InlineData(13, -0.5f, null)]
    [InlineData(13, null, null)]
    public void Clip(int opset, float? min, float? max)
    {
        var (g, x) = Image(opset);
        Check(g, x, x.Clip(min, max));
    }

    [Fact]
    public void Transpose_with_and_without_perm()
    {
        var (g, x) = Image();
        var reversed = g.Node("Transpose", [x], [W, H, 3, -1]);
        Check(g, x, x.Transpose(0, 2, 3, 1), reversed);
    }

    [Fact]
    public void Constant_nodes_and_identity()
    {
        var (g, x) = Image();
        var weights = g.Constant([0.5f, -1f, 2f], 1, 3, 1, 1);
        var scale = g.Node("Constant", [], [], ("value_float", 1.5f));
        var offsets = g.Node("Constant", [], [3], ("value_floats", new[] { 0.1f, 0.2f, 0.3f }));
        var y = x.Mul(weights).Mul(scale).Identity().Transpose(0, 2, 3, 1).Add(offsets);
        Check(g, x, y);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Flatten_as_torch_exports_view_of_size_0_and_minus_1(int opset)
    {
        // x.view(x.size(0), -1): Shape → Gather(0) → Unsqueeze(0) → Concat with [-1] → Reshape.
        var (g, x) = Image(opset);
        var features = Stem(x).MaxPool(2, 2);
        var batch = features.ShapeOf().Gather(g.Int64(0)).Unsqueeze(0);
        var shape = g.Node("Concat", [batch, g.Int64s(-1)], [2], ("axis", 0L));
        var flat = g.Node("Reshape", [features, shape], [-1, 12 * (H / 2) * (W / 2)]);
        Check(g, x, flat, flat.Gemm(4));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Squeeze_and_unsqueeze_after_pooling(int opset)
    {
        var (g, x) = Image(opset);
        var pooled = Stem(x).GlobalAveragePool();
        var byAxes = pooled.Squeeze(2, 3);
        var negative = pooled.Squeeze(-1, -2);
        var all = pooled.Squeeze();
        var back = opset >= 13
            ? g.Node("Unsqueeze", [byAxes, g.Int64s(-1, 1)], [-1, 1, 12, 1])
            : g.Node("Unsqueeze", [byAxes], [-1, 1, 12, 1], ("axes", new long[] { -1, 1 }));
        Check(g, x, byAxes, negative, all, back);
    }

    [Fact]
    public void Gather_of_channels_with_negative_indices()
    {
        var (g, x) = Image();
        var indices = g.Node("Constant", [], [2], ("value", new TensorProto
        {
            DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { 2, -3 },
        }));
        Check(g, x, x.Gather(indices, axis: 1) with { Shape = [-1, 2, H, W] });
    }

    [Fact]
    public void A_dense_layer_of_the_wrong_size_is_an_error_naming_the_node_not_a_crash()
    {
        var (g, x) = Image();
        var features = Stem(x).GlobalAveragePool().Flatten();
        g.Output(g.Node("Gemm", [features, g.Normal([4, 11], 1)], [2, 4], ("transB", 1L)));
        var file = Path.Combine(Path.GetTempPath(), $"researchkit-{Guid.NewGuid():N}.onnx");
        g.Save(file);
        try
        {
            var error = Assert.Throws<ResearchKit.Models.ModelLoadException>(() => ResearchKit.Models.Onnx.OnnxModel.Load(file).Dispose());
            Assert.Contains("Gemm node", error.Message);
            Assert.Contains(",12] by [11,4]", error.Message);
        }
        finally { File.Delete(file); }
    }
}
