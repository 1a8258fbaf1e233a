using ResearchKit.Dreaming;
using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Dreaming;

public class OctaveTests
{
    public OctaveTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Octave_carry_is_exact_when_every_octave_adds_a_constant()
    {
        // Each octave adds 0.04 everywhere; a constant detail survives any resize, so the dream must be the photo itself
        // plus octaves × 0.04: the detail is carried to every octave, never dropped and never added twice.
        using var scope = NewDisposeScope();
        var photo = rand([1, 3, 40, 56], generator: new Generator(3)).mul_(0.4).add_(0.2);
        var sizes = new List<long[]>();
        var dream = Dream.DeepDream(photo, octaveCount: 3, octaveScale: 1.5, (image, octave) =>
        {
            sizes.Add(image.shape);
            return image + 0.04;
        });
        Assert.Equal([[1, 3, 18, 25], [1, 3, 27, 37], [1, 3, 40, 56]], sizes);
        Assert.Equal(0.12, (dream - photo).min().ToDouble(), 5);
        Assert.Equal(0.12, (dream - photo).max().ToDouble(), 5);
    }

    [Fact]
    public void Octave_carry_upsamples_a_one_pixel_detail_bilinearly()
    {
        // A 32×32 grey photo, 2 octaves at scale 2. At the 16×16 octave one step adds 0.1 to the top-left pixel; the
        // 32×32 octave adds nothing. Bilinear upsampling (half-pixel centres) spreads that pixel over rows and columns
        // 0..2 with weights 1, 3/4, 1/4, so the dream is 0.5 + 0.1·w[y]·w[x] there and 0.5 elsewhere.
        using var scope = NewDisposeScope();
        var photo = full(1, 3, 32, 32, 0.5f);
        var dream = Dream.DeepDream(photo, octaveCount: 2, octaveScale: 2, (image, octave) =>
        {
            if (octave == 0) image[0, .., 0, 0] += 0.1f;
            return image;
        });
        double[] w = [1, 0.75, 0.25];
        var expected = full(1, 3, 32, 32, 0.5f);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
                expected[0, .., y, x] = 0.5 + 0.1 * w[y] * w[x];
        Assert.True(dream.allclose(expected, rtol: 0, atol: 1e-6), $"max error {(dream - expected).abs().max().ToDouble()}");
    }

    [Fact]
    public void Stopping_early_still_returns_the_photo_size_with_the_detail_so_far()
    {
        // A dream stopped in its first octave leaves the later octaves as they start: base plus the carried detail.
        using var scope = NewDisposeScope();
        var photo = full(1, 3, 48, 48, 0.5f);
        var dream = Dream.DeepDream(photo, octaveCount: 3, octaveScale: 1.4, (image, octave) => octave == 0 ? image + 0.1 : image);
        Assert.Equal(photo.shape, dream.shape);
        Assert.Equal(0.6, dream.mean().ToDouble(), 5);
    }

    [Fact]
    public void Octave_sizes_shrink_by_the_scale_and_a_too_small_octave_is_refused_with_its_size()
    {
        Assert.Equal([(300, 451), (214, 322), (153, 230), (109, 164)], Dream.OctaveSizes(300, 451, 4, 1.4));
        var error = Assert.Throws<InvalidSettingException>(() => Dream.OctaveSizes(40, 60, 4, 1.4));
        Assert.Contains("40", error.Message);
        Assert.Contains("15", error.Message);
        Assert.Contains("fewer octaves", error.Message);
    }

    [Fact]
    public void Settings_out_of_range_are_named()
    {
        var settings = new DreamSettings("layer3");
        Assert.Contains("OctaveScale", Assert.Throws<InvalidSettingException>(() => (settings with { OctaveScale = 1 }).Validate()).Message);
        Assert.Contains("Tile", Assert.Throws<InvalidSettingException>(() => (settings with { Tile = 8 }).Validate()).Message);
        Assert.Contains("StepSize", Assert.Throws<InvalidSettingException>(() => (settings with { StepSize = 0 }).Validate()).Message);
    }
}
