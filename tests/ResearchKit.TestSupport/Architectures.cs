namespace ResearchKit.TestSupport;

/// <summary>
/// Well-known network topologies as ONNX graphs with seeded random weights: the layout of a real model (its layer
/// names, channel counts and aliases) without trained weights, for tests, demos and benchmarks.
/// </summary>
public static class Architectures
{
    /// <summary>
    /// GoogLeNet / Inception-v1 (Szegedy et al. 2015, "Going deeper with convolutions") as the ONNX model zoo's
    /// bvlc_googlenet is laid out: 7x7/2 convolution, ceil-mode 3x3/2 max pooling, LRN, 1x1 and 3x3 convolutions, LRN,
    /// nine inception modules with the paper's channel counts, global average pooling, dropout, a 1024→classes Gemm and
    /// a softmax. Value names follow bvlc_googlenet (<c>inception_4c/output</c>, <c>loss3/classifier</c>, <c>prob</c>).
    /// </summary>
    public static OnnxGraphBuilder GoogLeNet(int seed = 0, int height = 224, int width = 224, int classes = 1000)
    {
        var g = new OnnxGraphBuilder(opset: 13, seed, "googlenet");
        var x = g.Input("data", -1, 3, height, width)
            .Conv(64, 7, stride: 2, pad: 3).Relu().Named("conv1/7x7_s2")
            .MaxPool(3, stride: 2, ceilMode: true).Named("pool1/3x3_s2")
            .Lrn(5, 1e-4f, 0.75f).Named("pool1/norm1")
            .Conv(64, 1).Relu().Named("conv2/3x3_reduce")
            .Conv(192, 3, pad: 1).Relu().Named("conv2/3x3")
            .Lrn(5, 1e-4f, 0.75f).Named("conv2/norm2")
            .MaxPool(3, stride: 2, ceilMode: true).Named("pool2/3x3_s2");
        x = Inception(x, "3a", 64, 96, 128, 16, 32, 32);
        x = Inception(x, "3b", 128, 128, 192, 32, 96, 64);
        x = x.MaxPool(3, stride: 2, ceilMode: true).Named("pool3/3x3_s2");
        x = Inception(x, "4a", 192, 96, 208, 16, 48, 64);
        x = Inception(x, "4b", 160, 112, 224, 24, 64, 64);
        x = Inception(x, "4c", 128, 128, 256, 24, 64, 64);
        x = Inception(x, "4d", 112, 144, 288, 32, 64, 64);
        x = Inception(x, "4e", 256, 160, 320, 32, 128, 128);
        x = x.MaxPool(3, stride: 2, ceilMode: true).Named("pool4/3x3_s2");
        x = Inception(x, "5a", 256, 160, 320, 32, 128, 128);
        x = Inception(x, "5b", 384, 192, 384, 48, 128, 128);
        var logits = x.GlobalAveragePool().Named("pool5/7x7_s1")
            .Flatten().Dropout(0.4f).Named("pool5/drop_7x7_s1")
            .Gemm(classes).Named("loss3/classifier");
        return g.Output(logits.Softmax(1).Named("prob"));
    }

    // Four branches concatenated along channels: 1x1; 1x1 → 3x3; 1x1 → 5x5; 3x3/1 max pooling → 1x1.
    static OnnxValue Inception(OnnxValue x, string name, long c1, long r3, long c3, long r5, long c5, long pool)
    {
        string p = $"inception_{name}/";
        return x.Graph.Concat(
            x.Conv(c1, 1).Relu().Named(p + "1x1"),
            x.Conv(r3, 1).Relu().Named(p + "3x3_reduce").Conv(c3, 3, pad: 1).Relu().Named(p + "3x3"),
            x.Conv(r5, 1).Relu().Named(p + "5x5_reduce").Conv(c5, 5, pad: 2).Relu().Named(p + "5x5"),
            x.MaxPool(3, stride: 1, pad: 1).Named(p + "pool").Conv(pool, 1).Relu().Named(p + "pool_proj"))
            .Named(p + "output");
    }
}
