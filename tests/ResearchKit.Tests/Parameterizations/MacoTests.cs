using System.Text.Json;
using ResearchKit.Imaging;
using ResearchKit.Native;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using ResearchKit.Tests.Imaging;
using ResearchKit.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Parameterizations;

public sealed class MacoTests : IDisposable
{
    readonly TempFolder _temp = new();

    public MacoTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    // The image before the colour mix and sigmoid, recovered from the output alone: logit, then back to decorrelated space.
    static Tensor PreSquash(Tensor image) => ColorDecorrelation.FromRgb(image.to_type(ScalarType.Float64).logit());

    static double RelativeSpectrumError(Maco maco)
    {
        using var scope = NewDisposeScope();
        var amplitude = fft.rfft2(PreSquash(maco.Image().detach()), norm: FFTNormType.Ortho).abs();
        var target = maco.Magnitude.to_type(ScalarType.Float64).expand_as(amplitude);
        return ((amplitude - target).abs().max() / target.max()).item<double>();
    }

    [Theory]
    [InlineData(24, 20)]
    [InlineData(17, 21)]
    public void The_pre_squash_image_has_exactly_the_fixed_amplitude_spectrum_whatever_the_phase(int height, int width)
    {
        using var maco = new Maco(height, width, batch: 2, seed: 1);
        Assert.True(RelativeSpectrumError(maco) < 1e-4, $"start: {RelativeSpectrumError(maco)}");
        // Any phase at all, not only the seeded start, keeps every amplitude.
        using (no_grad()) maco.Phase.copy_(randn(maco.Phase.shape, generator: new Generator(2)) * 10);
        Assert.True(RelativeSpectrumError(maco) < 1e-4, $"arbitrary phase: {RelativeSpectrumError(maco)}");
        // Unit standard deviation before the squash, as the reference implementation standardizes it.
        using var scope = NewDisposeScope();
        Assert.Equal(1.0, PreSquash(maco.Image().detach()).std(unbiased: false).item<double>(), 3);
    }

    [Fact]
    public void The_spectrum_is_the_photos_natural_fall_off_with_no_mean_and_a_real_images_symmetry()
    {
        using var scope = NewDisposeScope();
        var magnitude = NaturalSpectrum.Magnitude(32, 32);
        Assert.Equal([1, 3, 32, 17], magnitude.shape);
        Assert.Equal(0f, magnitude[0, .., 0, 0].abs().max().item<float>());
        // Columns 0 and 16 hold their own conjugates: amplitude at row k equals row 32 − k.
        foreach (int column in new[] { 0, 16 })
            for (int k = 1; k < 32; k++)
                Assert.Equal(magnitude[0, .., k, column].data<float>().ToArray(), magnitude[0, .., 32 - k, column].data<float>().ToArray());
        // Natural photos: amplitude falls about as 1/f, so the lowest frequencies carry far more than the highest.
        var fy = fft.fftfreq(32).unsqueeze(1);
        var fx = fft.rfftfreq(32).unsqueeze(0);
        var radius = (fy * fy + fx * fx).sqrt();
        var luminance = magnitude[0, 0];
        double low = luminance.masked_select((radius > 0) & (radius <= 0.07)).mean().item<float>();
        double high = luminance.masked_select(radius > 0.35).mean().item<float>();
        Assert.True(low > 5 * high, $"low-frequency amplitude {low} vs high {high}");
    }

    [Fact]
    public void Gradients_flow_only_into_the_phase()
    {
        using var maco = Parameterization.Maco(new ImageShape(1, 3, 16, 16), seed: 3);
        Assert.Single(maco.Parameters);
        Assert.Same(maco.Phase, maco.Parameters[0]);
        Assert.False(maco.Magnitude.requires_grad);
        var before = maco.Magnitude.data<float>().ToArray();
        using var optimizer = new Adam(0.1).Create(maco.Parameters);
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var image = maco.Image();
            (image * arange(image.numel()).reshape(image.shape).to_type(ScalarType.Float32).sin()).sum().backward();
            Assert.True(maco.Phase.grad!.abs().sum().item<float>() > 0);
            Assert.Null(maco.Magnitude.grad);
            optimizer.Step();
        }
        Assert.Equal(before, maco.Magnitude.data<float>().ToArray());
        Assert.True(RelativeSpectrumError(maco) < 1e-4);
    }

    [Fact]
    public void Same_seed_gives_identical_images_and_another_seed_differs()
    {
        using var a = new Maco(16, 12, seed: 7);
        using var b = new Maco(16, 12, seed: 7);
        using var c = new Maco(16, 12, seed: 8);
        using var scope = NewDisposeScope();
        Assert.Equal(a.Image().data<float>().ToArray(), b.Image().data<float>().ToArray());
        Assert.NotEqual(a.Image().data<float>().ToArray(), c.Image().data<float>().ToArray());
    }

    [Fact]
    public void The_transparency_map_is_non_negative_and_sits_on_the_neurons_receptive_field()
    {
        manual_seed(11);
        using var model = new ResearchKit.Models.SequentialModel("tiny32", [
            ("a", nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.ReLU())),
            ("b", nn.Sequential(nn.Conv2d(8, 8, 3, stride: 2, padding: 1), nn.ReLU())),
        ], 32, 32);
        // Every channel of b at (12, 3): on a 30×30 jittered input it reads input rows 4..8 and columns 22..26,
        // which a jitter of up to 2 moves to image rows 4..10 and columns 22..28 (49 of 1024 pixels).
        var objective = Enumerable.Range(0, 8).Select(c => Objective.Neuron("b", c, x: 12, y: 3)).Aggregate((p, q) => p + q);
        var plan = Render.Plan(model, objective).WithPreset(PriorPresets.Maco).WithTransforms(Transform.Jitter(2)).Size(32).Steps(12).Seed(1);
        using var result = plan.Run();
        var map = result.TransparencyMap!;
        Assert.Equal([1, 1, 32, 32], map.shape);
        Assert.True(map.min().item<float>() >= 0);
        double total = map.sum().item<float>();
        double inside = map[.., .., 4..11, 22..29].sum().item<float>();
        Assert.True(total > 0 && inside / total > 0.999, $"{inside / total:P3} of the map's mass on the receptive field");

        var files = result.Save(_temp.File("maco.png"));
        Assert.Contains(_temp.File("maco-transparency.png"), files);
        using var grey = ImageIO.Load(_temp.File("maco-transparency.png"));
        Assert.Equal(1f, grey.max().item<float>());
        using var rgba = ImageIO.LoadRgba(_temp.File("maco-transparency-rgba.png"));
        Assert.True((rgba.narrow(1, 3, 1) - grey.narrow(1, 0, 1)).abs().max().item<float>() < 1e-6f);
        using var json = JsonDocument.Parse(File.ReadAllText(_temp.File("maco.json")));
        Assert.True(json.RootElement.GetProperty("settings").GetProperty("transparencyMap").GetBoolean());

        // Other parameterizations record no map unless asked.
        using var fourier = plan.WithPreset(PriorPresets.Lucid).Steps(2).Run();
        Assert.Null(fourier.TransparencyMap);
        using var asked = plan.WithPreset(PriorPresets.Lucid).Steps(2).WithTransparencyMap().Run();
        Assert.NotNull(asked.TransparencyMap);
    }
}
