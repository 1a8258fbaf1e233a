using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Models.Onnx;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Reliability;

/// <summary>Absurdly large requests are refused, with the limit in the message, before anything is allocated.</summary>
public sealed class ResourceLimitTests : IDisposable
{
    readonly Scratch _scratch = new();

    public ResourceLimitTests() => TinyNet.Save(_scratch.File("tiny.onnx"));

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void The_library_refuses_huge_renders_resizes_noise_and_declared_images()
    {
        using var model = OnnxModel.Load(_scratch.File("tiny.onnx"));
        Assert.Contains("image size 100000x100000 is outside 8..2048",
            Assert.Throws<InvalidSettingException>(() => Render.Plan(model, "layer1:0").Size(100000)).Message);
        using var photo = zeros(1, 3, 16, 16);
        Assert.Contains("100000×75000 is too large; at most 16384 pixels per side",
            Assert.Throws<InvalidSettingException>(() => ImageOps.Resize(photo, 100000, 75000)).Message);
        Assert.Contains("noise of 100000x100000 is too large",
            Assert.Throws<InvalidSettingException>(() => ZoomStart.Noise(100000, 100000, 0)).Message);
        foreach (var (name, bytes) in new[] { ("huge.png", BadImages.PngHeader(60000, 60000)), ("huge.jpg", BadImages.JpegClaiming(60000, 60000)) })
            Assert.Contains("the image is 60000×60000 pixels; at most 16384 pixels per side",
                Assert.Throws<ImageLoadException>(() => ImageIO.Load(_scratch.Write(name, bytes))).Message);
    }

    public static TheoryData<string[], string> CliCases => new()
    {
        { ["visualize", "--layer", "layer1", "--size", "100000", "--out", "v.png"], "image size 100000x100000 is outside 8..2048" },
        { ["dream", "photo.png", "--layer", "layer1", "--size", "100000", "--out", "d.png"], "100000×100000 is too large; at most 16384 pixels per side" },
        { ["dream", "huge.jpg", "--layer", "layer1", "--out", "d.png"], "the image is 60000×60000 pixels; at most 16384 pixels per side" },
        { ["zoom", "--noise", "--size", "100000", "--layer", "layer1", "--frames", "1", "--out", "frames"], "noise of 100000x100000 is too large" },
    };

    [Theory]
    [MemberData(nameof(CliCases))]
    public void The_command_line_refuses_them_in_one_line(string[] args, string message)
    {
        _scratch.Write("photo.png", BadImages.Valid(".png", size: 64));
        _scratch.Write("huge.jpg", BadImages.JpegClaiming(60000, 60000));
        CliAssert.Fails(_scratch, [.. args, "--model", "tiny.onnx"], message);
    }
}
