using ResearchKit.TestSupport;
using Google.Protobuf;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Models;

public class OnnxGraphBuilderTests
{
    static byte[] Small(int seed)
    {
        var g = new OnnxGraphBuilder(seed: seed);
        var x = g.Input("image", -1, 3, 16, 16);
        return g.Output(x.Conv(8, 3, pad: 1).BatchNormalization().Relu().GlobalAveragePool().Flatten().Gemm(4)).Build().ToByteArray();
    }

    [Fact]
    public void The_same_seed_writes_the_same_bytes_and_another_seed_other_weights()
    {
        Assert.Equal(Small(5), Small(5));
        Assert.NotEqual(Small(5), Small(6));
        Assert.Equal(Small(5).Length, Small(6).Length);
    }

    [Fact]
    public void Weights_follow_he_initialization()
    {
        var g = new OnnxGraphBuilder(seed: 2);
        var x = g.Input("image", -1, 3, 8, 8);
        g.Output(x.Conv(256, 3));
        var weights = g.Build().Graph.Initializer.Single(t => t.Dims.Count == 4);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weights.RawData.Span).ToArray();
        double variance = values.Select(v => (double)v * v).Average();
        Assert.Equal(2.0 / 27, variance, 0.1 * 2.0 / 27);
        Assert.Equal(0, values.Average(), 0.01);
    }

    [Fact]
    public void Renaming_updates_every_use_and_names_stay_unique()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("image", -1, 3, 8, 8);
        var conv = x.Conv(4, 1).Named("stem");
        var y = conv.Relu();
        g.Output(conv);
        var graph = g.Build().Graph;
        Assert.Equal("stem", graph.Node[0].Output[0]);
        Assert.Equal("stem", graph.Node[1].Input[0]);
        Assert.Equal("stem", graph.Output[0].Name);
        Assert.Contains("already has a value named 'stem'", Assert.Throws<ArgumentException>(() => y.Named("stem")).Message);
        Assert.Contains("already has a value named 'image'", Assert.Throws<ArgumentException>(() => g.Input("image", 1, 3, 8, 8)).Message);
    }

    [Fact]
    public void Misuse_is_reported_with_the_value_and_what_is_valid()
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("image", -1, 3, 8, 8);
        Assert.Contains("group 2 does not divide 3 input", Assert.Throws<ArgumentException>(() => x.Conv(4, 3, group: 2)).Message);
        Assert.Contains("attribute 'when'", Assert.Throws<ArgumentException>(() => x.Apply("Relu", ("when", DateTime.Now))).Message);
        var unknown = g.Node("Custom", [x], null);
        Assert.Contains("channel count of 'custom_", Assert.Throws<InvalidOperationException>(() => unknown.Conv(4, 1)).Message);
        Assert.Contains("no outputs", Assert.Throws<InvalidOperationException>(() => new OnnxGraphBuilder().Build()).Message);
    }
}
