using ResearchKit.Models;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Reliability;

/// <summary>Broken ONNX files give a <see cref="ModelLoadException"/> naming the file and the problem, in the library and on the command line.</summary>
public sealed class BadModelTests : IDisposable
{
    readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string, string> Cases => BadModels.Cases;

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_library_names_the_file_and_the_problem(string kind, string problem)
    {
        string path = _scratch.File(BadModels.Write(_scratch, kind));
        var error = Assert.ThrowsAny<ModelLoadException>(() => OnnxModel.Load(path).Dispose());
        Assert.StartsWith(path + ":", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_command_line_prints_one_error_line_and_writes_nothing(string kind, string problem)
    {
        string model = BadModels.Write(_scratch, kind);
        CliAssert.Fails(_scratch, ["visualize", "--model", model, "--layer", "layer1", "--steps", "2", "--out", "out.png"], model, problem);
    }

    [Fact]
    public void External_data_inside_the_folder_loads_even_through_a_link_that_stays_inside()
    {
        using var inline = OnnxModel.Load(TinyNet.Save(_scratch.File("inline.onnx")));
        using var input = TorchSharp.torch.rand(1, 3, 32, 32);
        using var expected = inline.Forward(input);

        _scratch.Write("models/model.onnx", BadModels.External(_scratch, "weights.bin", "models/weights.bin"));
        using (var external = OnnxModel.Load(_scratch.File("models/model.onnx")))
        using (var output = external.Forward(input))
            Assert.True(output.eq(expected).all().item<bool>());

        File.Move(_scratch.File("models/weights.bin"), _scratch.File("models/data.bin"));
        File.CreateSymbolicLink(_scratch.File("models/weights.bin"), "data.bin");
        using (var linked = OnnxModel.Load(_scratch.File("models/model.onnx")))
        using (var output = linked.Forward(input))
            Assert.True(output.eq(expected).all().item<bool>());
    }

    [Fact]
    public void A_loop_of_links_is_an_error_not_a_hang()
    {
        _scratch.Write("models/model.onnx", BadModels.External(_scratch, "weights.bin", null));
        File.CreateSymbolicLink(_scratch.File("models/weights.bin"), "other.bin");
        File.CreateSymbolicLink(_scratch.File("models/other.bin"), "weights.bin");
        var error = Assert.Throws<ModelLoadException>(() => OnnxModel.Load(_scratch.File("models/model.onnx")));
        Assert.Contains("refers to external data 'weights.bin', whose path cannot be resolved", error.Message);
    }

    [Fact]
    public void The_tiny_network_itself_loads_with_its_aliases()
    {
        using var model = OnnxModel.Load(TinyNet.Save(_scratch.File("tiny.onnx")));
        Assert.Equal(8, model.Tap("layer1").Channels);
        Assert.Equal(16, model.Tap("layer2").Channels);
    }
}
