using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

/// <summary>
/// Today's architectures as PyTorch exports them (tests/fixtures/onnx, made with Debian's PyTorch 1.13 by
/// make_fixtures.py there; random weights, shrunk): the kit's values match PyTorch's committed references at the taps
/// and the output, and ONNX Runtime at every floating-point value of the graph, on a batch and, where the export allows
/// it, at another input size.
/// </summary>
public class ExportedNetworkTests
{
    public static TheoryData<string> Networks => new()
    {
        "mobilenetv3", "efficientnet", "convnext", "vit", "vit-opset14", "densenet", "shufflenet", "segmenter",
        "segmenter-opset9", "gray",
    };

    internal static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "onnx", name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"fixture {name} not found above {AppContext.BaseDirectory}");
    }

    // The issue's criterion: max |got − ref| ≤ 1e-4 · max |ref| + 1e-5.
    static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], reference [{string.Join(",", expected.shape)}]");
        double scale = expected.numel() == 0 ? 0 : expected.abs().max().item<float>();
        double error = expected.numel() == 0 ? 0 : (actual.to_type(float32).cpu() - expected).abs().max().item<float>();
        Assert.True(error <= 1e-4 * scale + 1e-5, $"{what}: max |error| {error:G3} exceeds 1e-4 x {scale:G3} + 1e-5");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Matches_the_committed_pytorch_references_at_the_taps_and_the_output(string name)
    {
        using var scope = NewDisposeScope();
        var references = NpyFile.ReadArchive(Fixture($"{name}.npz"));
        using var model = OnnxModel.Load(Fixture($"{name}.onnx"), InputNormalization.None);
        var outputs = OnnxModel.ReadProto(model.File).Graph.Output.Select(o => o.Name).ToList();
        Assert.True(outputs.Count >= 3, "the export declares the output and at least two taps");
        var input = references["input"];
        Assert.Equal(input.shape[1], model.InputChannels);
        var ours = model.Run(input, outputs);
        foreach (var output in outputs) AssertClose(references[output], ours[output], $"{name} {output}");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Runs_in_bfloat16_close_to_float32(string name)
    {
        using var scope = NewDisposeScope();
        var references = NpyFile.ReadArchive(Fixture($"{name}.npz"));
        using var model = ResearchKit.Tests.Execution.ModesForTests.Load(Fixture($"{name}.onnx"), ResearchKit.Models.Execution.ExecutionMode.FastBFloat16);
        var output = model.Run(references["input"], "output");
        Assert.Equal(ScalarType.Float32, output.dtype);
        double scale = references["output"].abs().max().item<float>();
        double error = (output - references["output"]).abs().max().item<float>();
        // bfloat16 keeps 8 bits of mantissa: a few percent after a dozen layers, not a wrong value.
        Assert.True(error <= 0.05 * scale, $"{name}: bfloat16 output off by {error:G3} of {scale:G3} ({model.Execution})");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Matches_onnx_runtime_at_every_value_on_a_batch(string name)
    {
        using var scope = NewDisposeScope();
        using var model = OnnxModel.Load(Fixture($"{name}.onnx"), InputNormalization.None);
        var declared = OnnxModel.ReadProto(model.File).Graph.Input[0].Type.TensorType.Shape.Dim;
        // Exports whose size is symbolic run at a size they were not traced at: shape arithmetic happens at run time.
        bool anySize = declared[2].DimValue == 0;
        long height = anySize ? 40 : model.InputHeight, width = anySize ? 48 : model.InputWidth;
        var image = rand([2, model.InputChannels, height, width], generator: new Generator(7)) * 2 - 1;
        using var noGrad = no_grad();
        var all = model.Run(image, model.TapNames);
        var floats = model.TapNames.Where(t => all[t].is_floating_point()).ToArray();
        Assert.True(floats.Length > 10, $"{name} has only {floats.Length} floating-point taps");
        var reference = OnnxReference.Run(model.File, image.contiguous().data<float>().ToArray(), image.shape, floats);
        foreach (var tap in floats)
            AssertClose(tensor(reference[tap].Values, reference[tap].Shape), all[tap], $"{name} {tap} ({model.OpOf(tap)})");
    }
}
