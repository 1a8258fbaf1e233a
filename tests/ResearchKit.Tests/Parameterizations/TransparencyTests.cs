using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Native;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Rendering;
using ResearchKit.Tests.Imaging;
using ResearchKit.Tests.Models;
using ResearchKit.Transforms;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Parameterizations;

public sealed class TransparencyTests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>, IDisposable
{
    readonly Model _model = fixture.Model;
    readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Compositing_is_alpha_times_colour_plus_one_minus_alpha_times_background()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        // Two pixels: colour (0.2, 0.4, 0.6) at alpha 0.25, and colour (1, 0, 0.5) fully opaque.
        var rgba = tensor(new float[] { 0.2f, 1f, 0.4f, 0f, 0.6f, 0.5f, 0.25f, 1f }, [1, 4, 1, 2]);
        var background = tensor(new float[] { 1f, 0f, 0f, 0f, 0.5f, 0f }, [1, 3, 1, 2]);
        float[] expected = [0.25f * 0.2f + 0.75f * 1f, 1f, 0.25f * 0.4f, 0f, 0.25f * 0.6f + 0.75f * 0.5f, 0.5f];
        Assert.Equal(expected, ImageOps.Over(rgba, background).data<float>().ToArray(), new FloatTolerance(1e-7f));

        // The transform composites over the background it draws: regenerating it from the same random state matches.
        var image = rand([2, 4, 16, 12], generator: new Generator(5));
        var transform = new RandomBackground();
        var composite = transform.Apply(image, new Random(9));
        var drawn = transform.Background(image, new Random(9));
        var alpha = image.narrow(1, 3, 1);
        var byHand = alpha * image.narrow(1, 0, 3) + (1 - alpha) * drawn;
        Assert.Equal([2, 3, 16, 12], composite.shape);
        Assert.True((composite - byHand).abs().max().item<float>() < 1e-6f);
        // Each step draws new, non-flat noise in [0,1].
        var rng = new Random(9);
        var first = transform.Background(image, rng);
        var second = transform.Background(image, rng);
        Assert.True(first.min().item<float>() >= 0 && first.max().item<float>() <= 1);
        Assert.True(first.std().item<float>() > 0.02f, $"background std {first.std().item<float>()}");
        Assert.True((first - second).abs().mean().item<float>() > 0.02f);
    }

    [Fact]
    public void An_rgba_png_round_trips_alpha_and_jpeg_refuses_it()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var levels = randint(0, 256, [1, 4, 5, 7], generator: new Generator(3)).to_type(ScalarType.Float32) / 255;
        string path = _temp.File("rgba.png");
        ImageIO.SaveRgba(levels, path);
        var loaded = ImageIO.LoadRgba(path);
        Assert.Equal([1, 4, 5, 7], loaded.shape);
        Assert.True((loaded - levels).abs().max().item<float>() < 1e-6f);
        // An opaque file loads with alpha 1; JPEG has no alpha.
        ImageIO.Save(levels.narrow(1, 0, 3), _temp.File("rgb.png"));
        Assert.Equal(1f, ImageIO.LoadRgba(_temp.File("rgb.png")).narrow(1, 3, 1).min().item<float>());
        Assert.Throws<InvalidSettingException>(() => { ImageIO.SaveRgba(levels, _temp.File("rgba.jpg")); });
    }

    [Fact]
    public void The_checkerboard_shows_through_transparent_pixels_only()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var board = ImageOps.Checkerboard(16, 16, square: 8);
        Assert.Equal(0.8f, board[0, 0, 0, 0].item<float>(), 6);
        Assert.Equal(0.6f, board[0, 0, 0, 8].item<float>(), 6);
        Assert.Equal(0.8f, board[0, 0, 8, 8].item<float>(), 6);
        var opaque = cat([full([1, 3, 16, 16], 0.1f), ones(1, 1, 16, 16)], 1);
        var clear = cat([full([1, 3, 16, 16], 0.1f), zeros(1, 1, 16, 16)], 1);
        Assert.Equal(0.1f, ImageOps.OverCheckerboard(opaque).max().item<float>(), 6);
        Assert.True((ImageOps.OverCheckerboard(clear) - board).abs().max().item<float>() < 1e-7f);
    }

    [Fact]
    public void The_alpha_mean_penalty_and_its_gradient_are_the_analytic_ones()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var image = rand([2, 4, 3, 5], generator: new Generator(1), dtype: ScalarType.Float64).requires_grad_(true);
        var value = Objective.AlphaMean().EvaluateImage(image);
        var expected = image.detach().narrow(1, 3, 1).mean([1, 2, 3]);
        Assert.True((value - expected).abs().max().item<double>() < 1e-12);
        value.sum().backward();
        // ∂/∂alpha of a mean over 3×5 positions is 1/15 everywhere; the colours do not matter.
        var gradient = image.grad!;
        Assert.True((gradient.narrow(1, 3, 1) - 1.0 / 15).abs().max().item<double>() < 1e-12);
        Assert.Equal(0.0, gradient.narrow(1, 0, 3).abs().max().item<double>());
        Assert.Throws<InvalidSettingException>(() => Objective.AlphaMean().EvaluateImage(rand(1, 3, 4, 4)));
    }

    [Theory]
    [InlineData("fourier")]
    [InlineData("pixel")]
    public void The_alpha_wrapper_adds_one_channel_and_decorrelates_only_the_colour(string kind)
    {
        var factory = Parameterization.WithAlpha(kind == "fourier"
            ? (shape, seed) => Parameterization.Fourier(shape, decorrelate: true, seed: seed)
            : (shape, seed) => Parameterization.Pixel(shape, PixelRange.Sigmoid, decorrelate: true, std: 0.5, seed: seed));
        using var p = (Transparent)factory(new ImageShape(2, 3, 16, 12), 4);
        using var scope = NewDisposeScope();
        var image = p.Image();
        Assert.Equal([2, 4, 16, 12], image.shape);
        Assert.True(image.min().item<float>() >= 0 && image.max().item<float>() <= 1);
        Assert.Equal(4, p.Channels);
        Assert.Contains("decorrelated", p.Colour.Describe());
        Assert.DoesNotContain("decorrelated", p.Alpha.Describe());
        Assert.Equal(1, p.Alpha.Channels);
        // Alpha is not a copy of the first colour channel's start.
        Assert.NotEqual(p.Colour.Parameters[0].narrow(1, 0, 1).data<float>().ToArray(), p.Alpha.Parameters[0].data<float>().ToArray());
        image.narrow(1, 3, 1).sum().backward();
        Assert.True(p.Alpha.Parameters[0].grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void A_transparent_render_keeps_only_what_drives_the_channel_and_saves_rgba()
    {
        var objective = Objective.Channel("layer2", 9);
        RenderPlan Plan() => Render.Plan(_model, objective).Size(64).Steps(40).Seed(1);
        using var free = Plan().Transparent(alphaPenalty: 0).Run();
        using var penalized = Plan().Transparent(alphaPenalty: 10).Run();
        Assert.Equal([1, 4, 64, 64], penalized.Images.shape);
        Assert.True(penalized.Settings.Transparent);
        Assert.StartsWith("random background", penalized.Settings.Transforms);
        Assert.Contains("alpha mean", penalized.Settings.Penalties);

        double freeAlpha = free.Images.narrow(1, 3, 1).mean().item<float>();
        double alpha = penalized.Images.narrow(1, 3, 1).mean().item<float>();
        Assert.True(alpha < 0.6 && alpha < freeAlpha - 0.1, $"mean alpha {alpha:0.###} with the penalty, {freeAlpha:0.###} without");

        // Over plain grey the image still drives the channel well beyond what grey alone does.
        using var grey = full([1, 3, 64, 64], 0.5f);
        using var composite = ImageOps.Over(penalized.Images, grey);
        double driven = objective.Measure(_model, composite)[0], background = objective.Measure(_model, grey)[0];
        Assert.True(driven > 2 * background + 0.5, $"channel {driven:0.###} over grey vs {background:0.###} for grey alone");

        var files = penalized.Save(_temp.File("transparent.png"));
        Assert.Contains(_temp.File("transparent.png"), files);
        using var saved = ImageIO.LoadRgba(_temp.File("transparent.png"));
        Assert.True((saved - penalized.Images).abs().max().item<float>() <= 0.5f / 255 + 1e-6f);
    }
}
