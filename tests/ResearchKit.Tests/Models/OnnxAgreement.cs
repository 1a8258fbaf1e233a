using ResearchKit.TestSupport;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

/// <summary>Runs a built graph in the kit and in ONNX Runtime on the same random input and compares chosen values.</summary>
static class OnnxAgreement
{
    /// <summary>
    /// Saves <paramref name="graph"/> (declaring the last tap its output when it has none), runs both on a seeded batch
    /// with values in [−1, 1], and asserts equal shapes and max |error| ≤ <paramref name="tolerance"/> × max |expected|.
    /// </summary>
    public static void Assert(OnnxGraphBuilder graph, OnnxValue input, IReadOnlyList<OnnxValue> taps, int batch = 2, int seed = 1,
        double tolerance = 1e-5)
    {
        if (graph.Outputs.Count == 0) graph.Output(taps[^1]);
        var file = Path.Combine(Path.GetTempPath(), $"researchkit-{Guid.NewGuid():N}.onnx");
        graph.Save(file);
        try { Assert(file, input.Shape!, taps.Select(t => t.Name).ToList(), batch, seed, tolerance, taps.Select(t => t.Shape).ToList()); }
        finally { File.Delete(file); }
    }

    public static void Assert(string file, long[] inputShape, IReadOnlyList<string> taps, int batch, int seed, double tolerance,
        IReadOnlyList<long[]?>? declared = null)
    {
        using var model = OnnxModel.Load(file, InputNormalization.None);
        using var scope = NewDisposeScope();
        var image = rand([batch, inputShape[1], inputShape[2], inputShape[3]], generator: new Generator((ulong)seed)) * 2 - 1;
        var ours = model.Run(image, taps);
        var raw = taps.Select(model.ResolveTap).ToList();
        var reference = OnnxReference.Run(file, image.contiguous().data<float>().ToArray(), image.shape, [.. raw.Distinct()]);
        for (int k = 0; k < taps.Count; k++)
        {
            var (values, shape) = reference[raw[k]];
            var actual = ours[taps[k]];
            Xunit.Assert.True(shape.SequenceEqual(actual.shape),
                $"{taps[k]}: shape [{string.Join(",", actual.shape)}], ONNX Runtime [{string.Join(",", shape)}]");
            // The builder's own shape bookkeeping (−1: any size) must agree too.
            if (declared?[k] is { } d)
                Xunit.Assert.True(d.Length == shape.Length && d.Zip(shape).All(p => p.First < 0 || p.First == p.Second),
                    $"{taps[k]}: builder declared [{string.Join(",", d)}], ONNX Runtime computed [{string.Join(",", shape)}]");
            var expected = tensor(values, shape);
            double scale = expected.numel() == 0 ? 0 : expected.abs().max().item<float>();
            double error = expected.numel() == 0 ? 0 : (actual.to_type(float32) - expected).abs().max().item<float>();
            Xunit.Assert.True(error <= tolerance * scale, $"{taps[k]}: max |error| {error:G3} exceeds {tolerance:G2} x scale {scale:G3}");
        }
    }
}
