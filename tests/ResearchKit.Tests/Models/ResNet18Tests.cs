using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

public sealed class ResNet18Fixture : IDisposable
{
    public Model Model { get; } = ModelZoo.ResNet18();
    public void Dispose() => Model.Dispose();
}

public class ResNet18Tests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>
{
    readonly Model _model = fixture.Model;

    static Tensor SmoothImage(int seed, int h = 224, int w = 224)
    {
        // A photo-like test input: low-frequency coloured noise in [0,1].
        var g = new Generator((ulong)seed);
        var coarse = rand([1, 3, h / 16, w / 16], generator: g);
        return nn.functional.interpolate(coarse, [h, w], mode: InterpolationMode.Bilinear, align_corners: false).clamp(0, 1);
    }

    [Fact]
    public void Blocks_are_named_like_torchvision_with_their_channel_counts()
    {
        var expected = new Dictionary<string, long[]>
        {
            ["conv1"] = [1, 64, 112, 112],
            ["maxpool"] = [1, 64, 56, 56],
            ["layer1"] = [1, 64, 56, 56],
            ["layer2"] = [1, 128, 28, 28],
            ["layer3"] = [1, 256, 14, 14],
            ["layer4"] = [1, 512, 7, 7],
            ["pool"] = [1, 512, 1, 1],
        };
        foreach (var (alias, shape) in expected)
            Assert.Equal(shape, _model.Tap(alias).Shape);
        Assert.Equal(["layer4.0", "layer4.1", "layer4.2"], _model.Aliases.Keys.Where(k => k.StartsWith("layer4.")).Order());
        Assert.Equal(_model.Aliases["layer4"], _model.Aliases["layer4.2"]);
    }

    [Fact]
    public void Taps_report_shapes_for_the_input_size_actually_used()
    {
        Assert.Equal([1, 256, 20, 24], _model.Tap("layer3", 320, 384).Shape);
        using var scope = NewDisposeScope();
        var layer3 = _model.Run(SmoothImage(1, 320, 384), "layer3");
        Assert.Equal([1, 256, 20, 24], layer3.shape);
    }

    [Theory]
    [InlineData(InputNormalization.Model)]
    [InlineData(InputNormalization.ImageNet)]
    public void Matches_onnx_runtime_at_the_output_and_intermediate_taps(InputNormalization normalization)
    {
        _model.UseNormalization(normalization);
        try
        {
            using var scope = NewDisposeScope();
            var image = cat([SmoothImage(2), SmoothImage(3)]);
            string[] taps = ["conv1", "layer1", "layer2.0", "layer3", "layer4", "pool"];
            var ours = _model.Run(image, taps);
            var input = _model.Normalize(image).contiguous();
            var reference = OnnxReference.Run(ModelZoo.ResNet18File, input.data<float>().ToArray(), input.shape,
                taps.Select(_model.ResolveTap).ToArray());
            foreach (var tap in taps)
            {
                var (values, shape) = reference[_model.ResolveTap(tap)];
                Assert.Equal(shape, ours[tap].shape);
                var expected = tensor(values, shape);
                double scale = expected.abs().max().item<float>();
                double error = (ours[tap] - expected).abs().max().item<float>();
                Assert.True(error <= 1e-4 * scale, $"{tap}: max |error| {error} exceeds 1e-4 x scale {scale}");
            }
        }
        finally { _model.UseNormalization(InputNormalization.Model); }
    }

    [Fact]
    public void Input_gradient_agrees_with_finite_differences()
    {
        using var scope = NewDisposeScope();
        var image = SmoothImage(4, 64, 64).requires_grad_();
        var weights = randn([1, 64, 32, 32], generator: new Generator(5));
        Tensor Objective(Tensor x) => (_model.Run(x, "conv1") * weights).sum();
        using (var pass = _model.Pass()) (pass.Run(image, "conv1") * weights).sum().backward();
        var gradient = image.grad!;
        const double eps = 1e-3;
        foreach (var (c, y, x) in new[] { (0, 10, 12), (1, 31, 40), (2, 50, 7), (0, 33, 33) })
        {
            double Shifted(double delta)
            {
                using var noGrad = no_grad();
                var shifted = image.detach().clone();
                shifted[0, c, y, x] += delta;
                return Objective(shifted).to_type(float64).item<double>();
            }
            double numeric = (Shifted(eps) - Shifted(-eps)) / (2 * eps);
            double analytic = gradient[0, c, y, x].item<float>();
            Assert.True(Math.Abs(numeric - analytic) <= 0.02 * Math.Abs(analytic) + 1e-2,
                $"pixel ({c},{y},{x}): finite difference {numeric} vs gradient {analytic}");
        }
    }

    [Fact]
    public void Running_to_an_early_tap_does_not_compute_later_blocks()
    {
        using var scope = NewDisposeScope();
        var outputs = _model.Run(SmoothImage(6), ["layer1"]);
        Assert.Single(outputs);
        Assert.Equal(64, outputs["layer1"].shape[1]);
    }

    [Fact]
    public void Unknown_layer_and_channel_name_what_exists()
    {
        var unknown = Assert.Throws<UnknownTapException>(() => _model.ResolveTap("layer9"));
        Assert.Contains("layer9", unknown.Message);
        Assert.Contains("layer3", unknown.Message);
        var channel = Assert.Throws<ChannelOutOfRangeException>(() => _model.CheckChannel("layer3", 300));
        Assert.Contains("0..255", channel.Message);
    }

    [Fact]
    public void Model_normalization_is_bgr_255_minus_the_mean_image()
    {
        using var scope = NewDisposeScope();
        var gray = full([1, 3, 224, 224], 0.5f);
        var input = _model.Normalize(gray);
        // Mean image channel means (BGR) of ResNetPreprocess.onnx: about 103.9, 116.8, 123.7 give 127.5 - mean.
        var channelMeans = input.mean([0, 2, 3]).data<float>().ToArray();
        Assert.InRange(127.5 - channelMeans[0], 95, 112);
        Assert.InRange(127.5 - channelMeans[2], 115, 132);
        Assert.True(127.5 - channelMeans[0] < 127.5 - channelMeans[2], "blue mean should be below red mean");
    }
}
