using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Rendering;
using ResearchKit.TestSupport;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

/// <summary>
/// Networks that do not take 3-channel RGB (grayscale, N channels) at small sizes: the input's channels come from the
/// graph, photos become their input, parameterizations render their channels, and images of any channel count are
/// shown as RGB with the documented mapping.
/// </summary>
public class AnyInputTests
{
    [Fact]
    public void A_grayscale_network_declares_one_channel_and_takes_photos_as_luma()
    {
        using var scope = NewDisposeScope();
        using var gray = OnnxModel.Load(ExportedNetworkTests.Fixture("gray.onnx"));
        Assert.Equal((1, 28, 28), (gray.InputChannels, gray.InputHeight, gray.InputWidth));
        Assert.Equal([1, 8, 28, 28], gray.Tap("act1").Shape);
        var photo = ImageIO.Load(SampleImages.Path(SampleImages.Names[0]), 28, 28);
        var luma = ImageOps.ToChannels(photo, 1);
        Assert.Equal([1, 1, 28, 28], luma.shape);
        var weighted = 0.299 * photo[0, 0, 3, 5].item<float>() + 0.587 * photo[0, 1, 3, 5].item<float>() + 0.114 * photo[0, 2, 3, 5].item<float>();
        Assert.Equal(weighted, luma[0, 0, 3, 5].item<float>(), 5);
        Assert.Equal(8, gray.ChannelMeans(luma, "act1").Length);
        var error = Assert.Throws<InvalidSettingException>(() => gray.UseNormalization(InputNormalization.ImageNet));
        Assert.Contains("1 channel", error.Message);
        Assert.Throws<InvalidSettingException>(() => ImageOps.ToChannels(photo, 4));
    }

    [Fact]
    public void A_four_channel_network_matches_onnx_runtime()
    {
        var g = new OnnxGraphBuilder(13, seed: 5);
        var x = g.Input("bands", -1, 4, 16, 16);
        var y = x.Conv(8, 3, pad: 1).Relu().Conv(8, 3, stride: 2, pad: 1, group: 4).Relu();
        OnnxAgreement.Assert(g, x, [y, y.GlobalAveragePool()]);
    }

    [Fact]
    public void Parameterizations_make_images_of_the_network_s_channel_count()
    {
        using var scope = NewDisposeScope();
        using var pixel = new Pixel(8, 9, batch: 2, channels: 1);
        Assert.Equal([2, 1, 8, 9], pixel.Image().shape);
        Assert.Equal([1, 1, 1, 1], pixel.Neutral.shape);
        using var fourier = Parameterization.Fourier(8, 8, channels: 4);
        Assert.False(fourier.Decorrelate);
        Assert.Equal([1, 4, 8, 8], fourier.Image().shape);
        Assert.Throws<InvalidSettingException>(() => new Fourier(8, 8, decorrelate: true, channels: 2));
        Assert.Throws<InvalidSettingException>(() => new Pixel(8, 8, decorrelate: true, channels: 1));
        var bands = rand([1, 4, 8, 8], generator: new Generator(3)) * 0.8 + 0.1;
        using var fromBands = Fourier.FromImage(bands);
        Assert.True((fromBands.Image() - bands).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void Images_that_are_not_rgb_are_shown_grey_or_by_their_first_three_channels()
    {
        using var scope = NewDisposeScope();
        var one = full([1, 1, 2, 2], 0.4f);
        var two = stack([full([2, 2], 0.2f), full([2, 2], 0.6f)]).unsqueeze(0);
        var five = arange(5, dtype: float32).reshape(1, 5, 1, 1).expand(1, 5, 2, 2) / 10;
        byte Level(double v) => (byte)Math.Round(v * 255, MidpointRounding.AwayFromZero);
        using (var grey = ImageIO.ToImage(one)) Assert.Equal(new SixLabors.ImageSharp.PixelFormats.Rgb24(Level(0.4), Level(0.4), Level(0.4)), grey[1, 1]);
        using (var pair = ImageIO.ToImage(two)) Assert.Equal(new SixLabors.ImageSharp.PixelFormats.Rgb24(Level(0.2), Level(0.6), Level(0.4)), pair[0, 1]);
        using (var bands = ImageIO.ToImage(five)) Assert.Equal(new SixLabors.ImageSharp.PixelFormats.Rgb24(0, Level(0.1), Level(0.2)), bands[1, 0]);
    }

    [Fact]
    public void A_grayscale_network_renders_one_channel_images_and_its_objective_rises()
    {
        using var gray = OnnxModel.Load(ExportedNetworkTests.Fixture("gray.onnx"));
        using var result = Render.Plan(gray, Objective.Channel("act3", 2))
            .WithPreset("lucid")
            .WithTransforms(TransformerTests.SmallImageTransforms(28)).Steps(24).Seed(0).Run();
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.Equal([1, 1, 28, 28], result.Images.shape);
        Assert.True(result.History.Objective[^1] > result.History.Objective[0] + 0.1,
            $"objective went from {result.History.Objective[0]:0.###} to {result.History.Objective[^1]:0.###}");
    }
}
