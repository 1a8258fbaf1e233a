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
    public void The_tiny_network_itself_loads_with_its_aliases()
    {
        using var model = OnnxModel.Load(TinyNet.Save(_scratch.File("tiny.onnx")));
        Assert.Equal(8, model.Tap("layer1").Channels);
        Assert.Equal(16, model.Tap("layer2").Channels);
    }
}
