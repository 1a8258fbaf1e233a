using System.Text.Json;
using ResearchKit.Imaging;
using ResearchKit.Tests.Models;

namespace ResearchKit.Tests.Cli;

/// <summary><c>visualize</c> on networks other than the packaged ResNet-18: a vision transformer and a segmenter.</summary>
public sealed class VisualizeAnyModelCliTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-any-model-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_vision_transformer_renders_at_its_one_input_size_and_its_class_logit_rises()
    {
        var (code, output, error) = CliProcess.Run(_folder, "visualize", "--model", ExportedNetworkTests.Fixture("vit.onnx"), "--normalize", "none",
            "--class", "3", "--steps", "16", "--out", "vit.png");
        Assert.True(code == 0, error);
        Assert.Contains("logit 3", output);
        using (var image = ImageIO.Load(Path.Combine(_folder, "vit.png"))) Assert.Equal([1, 3, 32, 32], image.shape);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "vit.json")));
        // Position embeddings fix the patch count: whatever the transforms make is resized back to 32×32.
        Assert.EndsWith("resize to 32x32", json.RootElement.GetProperty("settings").GetProperty("transforms").GetString());
        var curve = json.RootElement.GetProperty("outcome").GetProperty("objectiveCurve").EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.True(curve[^1] > curve[0], $"logit went from {curve[0]} to {curve[^1]}");
    }

    [Fact]
    public void A_segmenter_that_needs_its_input_size_says_so_and_renders_with_fixed_size()
    {
        string[] args = ["visualize", "--model", ExportedNetworkTests.Fixture("segmenter.onnx"), "--normalize", "none",
            "--layer", "output", "--channel", "1", "--size", "64", "--steps", "4", "--out", "seg.png"];
        var (code, _, error) = CliProcess.Run(_folder, args);
        Assert.Equal(1, code);
        Assert.Contains("--fixed-size", error);
        Assert.Single(error.Trim().Split('\n'));
        var (fixedCode, _, fixedError) = CliProcess.Run(_folder, [.. args, "--fixed-size"]);
        Assert.True(fixedCode == 0, fixedError);
        using var image = ImageIO.Load(Path.Combine(_folder, "seg.png"));
        Assert.Equal([1, 3, 64, 64], image.shape);
    }
}
