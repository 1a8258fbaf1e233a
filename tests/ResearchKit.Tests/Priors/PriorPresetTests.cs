using System.Text.Json;
using ResearchKit.Native;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using ResearchKit.Transforms;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Priors;

public class PriorPresetTests
{
    public PriorPresetTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<string> Names => new(PriorPresets.All.Select(p => p.Name));

    [Fact]
    public void Presets_have_unique_names_and_are_found_case_insensitively()
    {
        Assert.Equal(
            ["None", "Simonyan2013", "MahendranVedaldi2015", "Yosinski2015a", "Yosinski2015b", "Yosinski2015c", "Yosinski2015d", "Lucid", "Maco", "Bilateral", "PixelAscent"],
            PriorPresets.All.Select(p => p.Name));
        Assert.Same(PriorPresets.Lucid, PriorPresets.Get("lucid"));
        Assert.Same(PriorPresets.Yosinski2015c, PriorPresets.Get(" YOSINSKI2015C "));
    }

    [Fact]
    public void An_unknown_name_lists_the_valid_ones()
    {
        var error = Assert.Throws<InvalidSettingException>(() => PriorPresets.Get("Olah2017"));
        Assert.Contains("'Olah2017'", error.Message);
        foreach (var preset in PriorPresets.All) Assert.Contains(preset.Name, error.Message);
    }

    [Fact]
    public void Yosinski_presets_carry_table_1_of_the_paper()
    {
        // θ_decay, θ_b_every, θ_b_width, θ_n_pct, θ_c_pct per row of Table 1, then the authors' iteration counts.
        Assert.Equal([new GaussianBlurEvery(4, 0.5), new ClipByNorm(50), new PixelClamp()], PriorPresets.Yosinski2015a.Priors);
        Assert.Equal([new Decay(0.3), new ClipByNorm(20), new PixelClamp()], PriorPresets.Yosinski2015b.Priors);
        Assert.Equal([new Decay(0.0001), new GaussianBlurEvery(4, 1.0), new PixelClamp()], PriorPresets.Yosinski2015c.Priors);
        Assert.Equal([new GaussianBlurEvery(4, 0.5), new ClipByContribution(90), new PixelClamp()], PriorPresets.Yosinski2015d.Priors);
        Assert.Equal([500, 750, 1000, 1000],
            new[] { PriorPresets.Yosinski2015a, PriorPresets.Yosinski2015b, PriorPresets.Yosinski2015c, PriorPresets.Yosinski2015d }.Select(p => p.DefaultSteps));
    }

    [Fact]
    public void Lucid_preset_is_fourier_decorrelated_with_standard_transforms_and_adam()
    {
        var lucid = PriorPresets.Lucid;
        using var parameterization = lucid.CreateParameterization(new ImageShape(3, 3, 64, 64), 5);
        Assert.Equal("fft+decorrelated 64x64 x3", parameterization.Describe());
        Assert.Same(TransformPipeline.Standard, lucid.Transforms);
        Assert.Empty(lucid.Priors);
        Assert.Equal(new Adam(0.05), lucid.Optimizer);
        Assert.Equal(512, lucid.DefaultSteps);
        Assert.Equal([new PixelClamp()], PriorPresets.MahendranVedaldi2015.Priors);
        Assert.Equal("0.01 * TV β=2 + 0.1 * α-norm α=6", PriorPresets.MahendranVedaldi2015.Penalties!.Description);
    }

    [Fact]
    public void Presets_serialize_their_settings_but_not_the_factory()
    {
        string json = JsonSerializer.Serialize(PriorPresets.Yosinski2015d);
        Assert.Contains("\"Name\":\"Yosinski2015d\"", json);
        Assert.Contains("\"kind\":\"clipByContribution\"", json);
        Assert.Contains("\"kind\":\"normalizedAscent\"", json);
        Assert.DoesNotContain("CreateParameterization", json);
        Assert.Equal(
            "Yosinski2015d: transforms none; blur σ=0.5 every 4, clip contribution <90th pct, clamp [0,1]; normalized ascent step 0.01; 1000 steps",
            PriorPresets.Yosinski2015d.Describe());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_preset_raises_a_toy_objective_in_the_engine_and_keeps_pixels_valid(string name)
    {
        // Redder than green, per image: a objective that needs no network, so every preset's parameterization,
        // transforms, penalties, step priors and optimizer act on the picture alone.
        using var model = TinyModels.Smooth();
        var redness = Objective.Custom("redness", [], ctx => (ctx.Image[.., 0] - ctx.Image[.., 1]).mean([1, 2]));
        using var result = Render.Plan(model, redness).WithPreset(name).Size(32).Batch(2).Steps(12).Seed(1).Run();
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.InRange(result.Images.min().item<float>(), 0, 1);
        Assert.InRange(result.Images.max().item<float>(), 0, 1);
        var curve = result.History.Objective;
        Assert.True(curve[^1] > curve[0], $"{name}: red − green went from {curve[0]} to {curve[^1]}");
    }
}
