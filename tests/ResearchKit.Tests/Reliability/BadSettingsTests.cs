using ResearchKit.IO;
using ResearchKit.TestSupport;
using System.Text.Json;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using ResearchKit.Tests.Cli;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Reliability;

/// <summary>Settings outside their range are refused with a message that names the setting and what is valid.</summary>
public sealed class BadSettingsTests : IDisposable
{
    readonly Scratch _scratch = new();
    readonly OnnxModel _model;

    public BadSettingsTests()
    {
        _model = OnnxModel.Load(TinyNet.Save(_scratch.File("tiny.onnx")));
        _scratch.Write("photo.png", BadImages.Valid(".png", size: 64));
    }

    public void Dispose()
    {
        _model.Dispose();
        _scratch.Dispose();
    }

    static Tensor Photo(int height = 64, int width = 64, int seed = 1) => rand([1, 3, height, width], generator: new Generator((ulong)seed));

    [Fact]
    public void An_unknown_layer_lists_the_valid_ones()
    {
        var error = Assert.Throws<UnknownTapException>(() => _model.ResolveTap("layer9"));
        Assert.Contains("no layer 'layer9'", error.Message);
        foreach (var alias in new[] { "conv1", "layer1", "layer2", "pool" }) Assert.Contains(alias, error.Message);
        Assert.Throws<UnknownTapException>(() => Render.Plan(_model, "layer9:0").Size(32).Steps(2).Run());
        using var photo = Photo();
        Assert.Throws<UnknownTapException>(() => Dream.Run(_model, photo, new DreamSettings("layer9")));
    }

    [Fact]
    public void A_channel_out_of_range_names_the_range()
    {
        var error = Assert.Throws<ChannelOutOfRangeException>(() => _model.CheckChannel("layer1", 8));
        Assert.Contains("layer 'layer1' of model 'tiny' has channels 0..7; channel 8 does not exist", error.Message);
        var during = Assert.Throws<ChannelOutOfRangeException>(() => Render.Plan(_model, "layer2:-1").Size(32).Steps(2).Run());
        Assert.Contains("channels 0..15", during.Message);
    }

    [Fact]
    public void Non_positive_sizes_steps_batches_and_frames_are_refused()
    {
        var plan = Render.Plan(_model, "layer1:0");
        Assert.Contains("image size 0x0 is outside 8..2048", Assert.Throws<InvalidSettingException>(() => plan.Size(0)).Message);
        Assert.Contains("steps must be positive", Assert.Throws<InvalidSettingException>(() => plan.Steps(0)).Message);
        Assert.Contains("batch must be in 1..256", Assert.Throws<InvalidSettingException>(() => plan.Batch(0)).Message);
        Assert.Contains("Octaves is 0", Assert.Throws<InvalidSettingException>(() => new DreamSettings("layer1") { Octaves = 0 }.Validate()).Message);
        Assert.Contains("StepsPerOctave is -1", Assert.Throws<InvalidSettingException>(() => new DreamSettings("layer1") { StepsPerOctave = -1 }.Validate()).Message);
        foreach (int frames in new[] { 0, -3 })
            Assert.Contains($"Frames is {frames}; it must be at least 1",
                Assert.Throws<InvalidSettingException>(() => new ZoomSettings(new DreamSettings("layer1")) { Frames = frames }.Validate()).Message);
        using var photo = Photo();
        Assert.Throws<InvalidSettingException>(() => ZoomLoop.Run(_model, ZoomStart.Photo(photo, "photo"),
            new ZoomSettings(new DreamSettings("layer1")) { Frames = 0 }, _scratch.File("frames")));
        Assert.False(Directory.Exists(_scratch.File("frames")), "a refused zoom must not create its folder");
    }

    [Fact]
    public void A_nan_objective_stops_the_render_keeps_the_last_finite_image_and_says_so()
    {
        int calls = 0;
        var failing = Objective.Custom("NaN from step 4", ["layer1"], ctx =>
            ++calls >= 4 ? full(ctx.Batch, double.NaN) : ctx["layer1"].mean([1, 2, 3]));
        Tensor? third = null;
        using var result = Render.Plan(_model, failing).Size(32).Steps(10)
            .Every(1, f => { if (f.Step == 3) third = f.Image.clone().DetachFromDisposeScope(); }).Run();
        Assert.Equal(RenderStop.NonFinite, result.Stop);
        Assert.Equal(3, result.StepsDone);
        Assert.True(result.Images.isfinite().all().item<bool>());
        Assert.True(result.Images.eq(third!).all().item<bool>(), "the kept image is the one after the last finite step");
        string path = _scratch.File("nan.png");
        result.Save(path);
        using var json = JsonDocument.Parse(File.ReadAllText(Sidecar.PathFor(path)));
        Assert.Equal("nonFinite", json.RootElement.GetProperty("outcome").GetProperty("stop").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("outcome").GetProperty("stepsDone").GetInt32());
        third!.Dispose();
    }

    [Fact]
    public void A_nan_gradient_stops_the_dream_and_keeps_the_last_finite_image()
    {
        // Evaluations: the objective before the dream, then one per step; the third is NaN, so one step succeeds.
        int calls = 0;
        var failing = Objective.Custom("NaN from the second step", ["layer1"], ctx =>
            ++calls >= 3 ? ctx["layer1"].mean([1, 2, 3]) * double.NaN : ctx["layer1"].pow(2).mean([1, 2, 3]));
        using var photo = Photo();
        using var dream = Dream.Run(_model, photo, new DreamSettings(failing) { Octaves = 1, StepsPerOctave = 5 });
        Assert.Equal(RenderStop.NonFinite, dream.Stop);
        Assert.Equal(1, dream.StepsDone);
        Assert.True(dream.Image.isfinite().all().item<bool>());
        Assert.False(dream.Image.eq(photo).all().item<bool>(), "the one finite step is kept");
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(40, 96)]
    [InlineData(16, 16)]
    public void A_guide_of_another_size_works_since_features_are_matched_per_position(int height, int width)
    {
        using var guide = Photo(height, width, seed: 2);
        using var photo = Photo();
        var goal = Dream.Guide(_model, "layer2", guide, "guide.png");
        using var dream = Dream.Run(_model, photo, new DreamSettings(goal) { Octaves = 1, StepsPerOctave = 4 });
        Assert.Equal([1, 3, 64, 64], dream.Image.shape);
        Assert.True(dream.ObjectiveAfter > dream.ObjectiveBefore, $"{dream.ObjectiveBefore} -> {dream.ObjectiveAfter}");
    }

    [Fact]
    public void A_guide_that_is_not_an_rgb_image_is_refused()
    {
        using var gray = rand(1, 1, 32, 32);
        var error = Assert.Throws<InvalidSettingException>(() => Dream.Guide(_model, "layer2", gray));
        Assert.Contains("[1,1,32,32]", error.Message);
    }

    public static TheoryData<string, string[], string[]> CliCases => new()
    {
        { "unknown layer", ["visualize", "--layer", "layer9", "--out", "v.png"], ["no layer 'layer9'", "layer1", "layer2"] },
        { "channel out of range", ["visualize", "--layer", "layer1", "--channel", "8", "--out", "v.png"], ["channels 0..7; channel 8 does not exist"] },
        { "channel out of range in an objective", ["visualize", "--objective", "layer2:16", "--steps", "2", "--out", "v.png"], ["channels 0..15"] },
        { "size 0", ["visualize", "--layer", "layer1", "--size", "0", "--out", "v.png"], ["image size 0x0 is outside 8..2048"] },
        { "steps 0", ["visualize", "--layer", "layer1", "--steps", "0", "--out", "v.png"], ["steps must be positive"] },
        { "batch 0", ["visualize", "--layer", "layer1", "--batch", "0", "--out", "v.png"], ["batch must be in 1..256"] },
        { "dream steps -1", ["dream", "photo.png", "--layer", "layer1", "--steps", "-1", "--out", "d.png"], ["StepsPerOctave is -1"] },
        { "dream octaves 0", ["dream", "photo.png", "--layer", "layer1", "--octaves", "0", "--out", "d.png"], ["Octaves is 0"] },
        { "dream size 0", ["dream", "photo.png", "--layer", "layer1", "--size", "0", "--out", "d.png"], ["Sizes must be positive; got 0×0"] },
        { "zoom frames 0", ["zoom", "--noise", "--size", "32", "--layer", "layer1", "--frames", "0", "--out", "frames"], ["Frames is 0; it must be at least 1"] },
        { "broken guide", ["dream", "photo.png", "--layer", "layer1", "--guide", "photo.json", "--out", "d.png"], ["photo.json", "not in a known image format"] },
    };

    [Theory]
    [MemberData(nameof(CliCases))]
    public void The_command_line_prints_one_error_line_and_writes_nothing(string name, string[] args, string[] mentions)
    {
        Assert.NotEmpty(name);
        if (args.Contains("photo.json")) _scratch.Write("photo.json", "{\"not\": \"an image\"}"u8.ToArray());
        CliAssert.Fails(_scratch, [.. args, "--model", "tiny.onnx"], mentions);
    }

    [Fact]
    public void A_nan_objective_on_the_command_line_exits_3_keeps_a_finite_image_and_explains()
    {
        var g = new OnnxGraphBuilder(seed: 1);
        var features = g.Input("data", -1, 3, 32, 32).Conv(4, 3, pad: 1).Relu();
        g.Output(features.Div(g.Scalar(0)).Named("broken"));   // 0/0 is NaN, x/0 infinite
        g.Save(_scratch.File("nan.onnx"));
        var (code, output, error) = CliProcess.Run(_scratch.Path, "visualize", "--model", "nan.onnx", "--layer", "broken", "--channel", "0",
            "--steps", "5", "--size", "32", "--out", "nan.png");
        Assert.True(code == 3, $"exit {code}: {error}");
        Assert.Contains("stopped: the objective or its gradient became NaN or infinite at step 1; the image is the last finite one (after 0 steps)", error);
        Assert.Contains("(NonFinite)", output);
        using var image = ImageIO.Load(_scratch.File("nan.png"));
        Assert.Equal([1, 3, 32, 32], image.shape);
        Assert.True(File.Exists(_scratch.File("nan.json")));
    }
}
