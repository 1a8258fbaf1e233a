using ResearchKit.TestSupport;
using Google.Protobuf;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Reliability;

/// <summary>
/// A small residual network written with <see cref="OnnxGraphBuilder"/>: stem (alias conv1), two residual stages (layer1
/// with 8 channels, layer2 with 16) and global pooling (pool). It loads and runs in milliseconds, so the command line can
/// be driven end to end without the packaged ResNet-18.
/// </summary>
static class TinyNet
{
    public const int Side = 32;

    public static OnnxGraphBuilder Builder(int seed = 1)
    {
        var g = new OnnxGraphBuilder(opset: 13, seed, "tinynet");
        var stem = g.Input("data", -1, 3, Side, Side).Conv(8, 3, stride: 2, pad: 1).Relu();
        var layer1 = Residual(stem);
        var layer2 = Residual(layer1.Conv(16, 3, stride: 2, pad: 1).Relu());
        return g.Output(layer2.GlobalAveragePool());
    }

    static OnnxValue Residual(OnnxValue x) => x.Conv(x.Channels, 3, pad: 1).Relu().Conv(x.Channels, 3, pad: 1).Add(x).Relu();

    public static byte[] Bytes(int seed = 1) => Builder(seed).Build().ToByteArray();

    /// <summary>Writes the network to <paramref name="path"/> and returns the path.</summary>
    public static string Save(string path)
    {
        Builder().Save(path);
        return path;
    }
}
