using ResearchKit.Atlas;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeviceAuditCollection
{
    public const string Name = "Device audit";
}

/// <summary>
/// The rule that makes rendering work on a GPU: every tensor the render path makes (noise, kernels, masks, colour
/// matrices, FFT scales, grids, indices) is made on the device of its input, or on the CPU explicitly and then moved.
/// Without a GPU the rule cannot be checked by rendering on CUDA, and libtorch's meta device cannot stand in for one:
/// conv2d, relu, batch_norm, grid_sample and the FFTs have no meta kernels in libtorch 2.10, so nothing renders there.
/// So the audit turns it around: it makes meta TorchSharp's default device and renders on the CPU. A factory called
/// without a device (<c>zeros(n)</c>, <c>tensor(values)</c>, <c>arange(..)</c>, a scalar assigned into a tensor) then
/// makes a meta tensor, and the render fails ("Expected all tensors to be on the same device", "Cannot copy out of meta
/// tensor"); the first test shows that it does. The default device is process-wide, so these tests run alone.
/// </summary>
[Collection(DeviceAuditCollection.Name)]
public sealed class DeviceAuditTests : IDisposable
{
    readonly Model _model = ModelZoo.ResNet18();
    readonly Tensor _photo = SampleImages.Load("chelsea", 64, 48);

    public void Dispose()
    {
        _model.Dispose();
        _photo.Dispose();
    }

    static T Audited<T>(Func<T> run)
    {
        var previous = get_default_device();
        set_default_device(new Device(DeviceType.META));
        try { return run(); }
        finally { set_default_device(previous); }
    }

    RenderPlan Plan(Objective objective) => Render.Plan(_model, objective).OnDevice("cpu").Size(40).Steps(3).Seed(1);

    [Fact]
    public void The_audit_catches_a_tensor_made_without_a_device()
    {
        var careless = Objective.Custom("mean times ones", ["layer1"], ctx => ctx["layer1"].mean([1, 2, 3]) * ones(ctx.Batch));
        using (var fine = Plan(careless).Run()) Assert.Equal(RenderStop.Completed, fine.Stop);
        var e = Assert.ThrowsAny<Exception>(() => Audited(() => Plan(careless).Run()));
        Assert.Contains("meta", e.Message);
    }

    public static TheoryData<string> Presets => [.. PriorPresets.All.Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_preset_makes_its_tensors_on_the_render_device(string preset)
    {
        var objective = Objective.Channel("layer2", 5, batch: 0) + Objective.Channel("layer2", 9, batch: 1) - 0.1 * Objective.Diversity("layer2");
        using var result = Audited(() => Plan(objective).WithPreset(preset).Batch(2).Steps(5).Run());
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.Equal(DeviceType.CPU, result.Images.device_type);
    }

    [Fact]
    public void Every_objective_penalty_and_parameterization_makes_its_tensors_on_the_render_device()
    {
        var direction = Enumerable.Range(0, 128).Select(i => MathF.Sin(i)).ToArray();
        var objective = Objective.DirectionCosine("layer2", direction) + Objective.Direction("layer2", direction) + Objective.Neuron("layer3", 3)
            + Objective.Layer("layer1") + Objective.Diversity("layer2") - 0.01 * Objective.L2() - 0.01 * Objective.TotalVariation(1) - Objective.Blur(1);
        var plans = new[]
        {
            Plan(objective).Batch(2).WithPenalties(0.01 * Objective.L2() + 0.01 * Objective.AlphaNorm() + 0.01 * Objective.TotalVariation(1.5)),
            Plan(objective).Batch(2).WithParameterization((h, w, n, s) => Parameterization.Cppn(h, w, n, s, layers: 2, hidden: 4)),
            Plan(objective).Batch(2).WithParameterization((h, w, n, s) => Parameterization.Fourier(h, w, n, decorrelate: false, seed: s)),
            Plan(objective).Batch(2).WithParameterization((h, w, n, s) => Parameterization.Pixel(h, w, n, decorrelate: true, seed: s)),
            // One image from a photo: the diversity term takes its batch-of-one branch.
            Plan(objective).Size(48, 64).WithParameterization((h, w, n, s) => Fourier.FromImage(_photo)),
            Plan(objective).Size(48, 64).WithPreset("yosinski2015b").WithParameterization((h, w, n, s) => Parameterization.FromImage(_photo)),
        };
        foreach (var plan in plans)
        {
            using var result = Audited(() => plan.Run());
            Assert.Equal(RenderStop.Completed, result.Stop);
        }
    }

    [Fact]
    public void Dreams_zooms_and_image_measures_make_their_tensors_on_the_dream_device()
    {
        var settings = new DreamSettings("layer2") { Octaves = 2, StepsPerOctave = 2, Jitter = 4 };
        var guide = Audited(() => Dream.Guide(_model, "layer2", _photo.flip(3)));
        using var whole = Audited(() => Dream.Run(_model, _photo, settings));
        using var tiled = Audited(() => Dream.Run(_model, _photo, settings with { Tile = 32 }));
        using var guided = Audited(() => Dream.Run(_model, _photo, settings with { Objective = guide }));
        using var zoomed = Audited(() => ZoomLoop.ZoomInto(whole.Image, 1.1, degrees: 5));
        Audited(() => ImageStatistics.HighFrequencyEnergy(tiled.Image));
        Audited(() => ImageStatistics.RadialPowerSpectrum(guided.Image, bins: 8));
        Audited(() => Objective.LikeImage(_model, _photo, "layer2").Measure(_model, zoomed));
        Assert.All(new[] { whole, tiled, guided }, d => Assert.Equal(RenderStop.Completed, d.Stop));
    }

    [Fact]
    public void An_atlas_with_dataset_examples_makes_its_tensors_on_the_render_device()
    {
        var folder = Directory.CreateTempSubdirectory("rk-audit-atlas-").FullName;
        try
        {
            string photos = Directory.CreateDirectory(Path.Combine(folder, "photos")).FullName;
            File.Copy(SampleImages.Path("chelsea"), Path.Combine(photos, "chelsea.jpg"));
            var settings = new AtlasSettings("layer1", [0, 1], Steps: 2, Height: 32, Width: 32, Batch: 2, Images: photos);
            var manifest = Audited(() => LayerAtlas.Render(_model, settings, Shard.All, Path.Combine(folder, "atlas")));
            Assert.Equal(2, manifest.Channels.Count);
            Assert.All(manifest.Channels, c => Assert.NotEmpty(c.Examples));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
