using ResearchKit.Imaging;

namespace ResearchKit.Tests.Reliability;

/// <summary>Broken image files give an <see cref="ImageLoadException"/> naming the file and the problem, in the library and on the command line.</summary>
public sealed class BadImageTests : IDisposable
{
    readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string, string, string> Cases => BadImages.Cases;

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_library_names_the_file_and_the_problem(string kind, string name, string problem)
    {
        string path = _scratch.Write(name, BadImages.Make(kind));
        var error = Assert.Throws<ImageLoadException>(() => ImageIO.Load(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message);
        Assert.True(error.Problem.Contains(problem), error.Problem);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_command_line_prints_one_error_line_and_writes_nothing(string kind, string name, string problem)
    {
        _scratch.Write(name, BadImages.Make(kind));
        TinyNet.Save(_scratch.File("tiny.onnx"));
        CliAssert.Fails(_scratch, ["dream", name, "--model", "tiny.onnx", "--layer", "layer1", "--octaves", "1", "--steps", "1", "--out", "dream.png"],
            name, problem);
    }

    [Fact]
    public void A_jpeg_declaring_an_absurd_size_is_refused_before_decoding()
    {
        string path = _scratch.Write("huge.jpg", BadImages.JpegClaiming(60000, 60000));
        var error = Assert.Throws<ImageLoadException>(() => ImageIO.Load(path));
        Assert.Contains("60000×60000 pixels", error.Message);
        Assert.Contains($"at most {ImageIO.MaxSide} pixels per side", error.Message);
    }
}
