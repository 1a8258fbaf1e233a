using System.Text.Json;
using ResearchKit.IO;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using ResearchKit.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

public sealed class RendererTests : IDisposable
{
    readonly ResearchKit.Models.SequentialModel _model = TinyFloatModel();
    readonly string _folder = Directory.CreateTempSubdirectory("rk-render-").FullName;

    public void Dispose()
    {
        _model.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    static ResearchKit.Models.SequentialModel TinyFloatModel()
    {
        manual_seed(11);
        return new ResearchKit.Models.SequentialModel("tiny32", [
            ("a", nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.ReLU())),
            ("b", nn.Sequential(nn.Conv2d(8, 8, 3, stride: 2, padding: 1), nn.ReLU())),
        ], 32, 32);
    }

    RenderPlan Plan(Objective objective) => Render.Plan(_model, objective).Size(32).Steps(20).Seed(3);

    [Fact]
    public void Same_seed_gives_identical_bytes_and_another_seed_does_not()
    {
        string a = Path.Combine(_folder, "a.png"), b = Path.Combine(_folder, "b.png"), c = Path.Combine(_folder, "c.png");
        using (var r = Plan("b:2").Run()) r.Save(a);
        using (var r = Plan("b:2").Run()) r.Save(b);
        using (var r = Plan("b:2").Seed(4).Run()) r.Save(c);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
    }

    [Fact]
    public void The_objective_rises_and_frames_arrive_every_k_steps()
    {
        var frames = new List<(int Step, double Value)>();
        using var result = Plan("b:2").WithPreset("none").Steps(24).Every(8, f => frames.Add((f.Step, f.Objective))).Run();
        Assert.Equal([8, 16, 24], frames.Select(f => f.Step));
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.True(result.History.Objective[^1] > result.History.Objective[0] * 1.5 + 1e-3,
            $"objective went from {result.History.Objective[0]} to {result.History.Objective[^1]}");
        Assert.Equal([1, 3, 32, 32], result.Images.shape);
    }

    [Fact]
    public void Copied_frames_outlive_the_callback_and_the_last_is_the_result()
    {
        var copies = new List<Tensor>();
        var clones = new List<Tensor>();
        using var result = Plan("b:2").Steps(6).Every(3, f => { copies.Add(f.CopyImage()); clones.Add(f.Image.clone()); }).Run();
        Assert.All(clones, c => Assert.True(c.IsInvalid));   // why CopyImage exists: a clone dies with the step's scope
        Assert.All(copies, c => Assert.False(c.IsInvalid));
        Assert.True(copies[^1].eq(result.Images).all().item<bool>());
        Assert.False(copies[0].eq(copies[1]).all().item<bool>());
        foreach (var copy in copies) copy.Dispose();
    }

    [Fact]
    public void Per_term_values_are_recorded_and_sum_to_the_objective()
    {
        using var result = Plan(Objective.Channel("b", 1) - 0.5 * Objective.Layer("a")).Steps(5).Run();
        var terms = result.History.Terms;
        for (int s = 0; s < 5; s++)
            Assert.Equal(terms["channel b:1"][s] - 0.5 * terms["layer a"][s], result.History.Objective[s], 4);
    }

    [Fact]
    public void Cancellation_keeps_the_last_completed_image()
    {
        using var cts = new CancellationTokenSource();
        using var result = Plan("b:2").Steps(100).Every(1, f => { if (f.Step == 5) cts.Cancel(); }).Run(cts.Token);
        Assert.Equal(RenderStop.Cancelled, result.Stop);
        Assert.Equal(5, result.StepsDone);
        Assert.True(result.Images.isfinite().all().item<bool>());
    }

    [Fact]
    public void A_non_finite_objective_stops_and_keeps_a_finite_image()
    {
        int calls = 0;
        var exploding = Objective.Custom("explodes at step 4", ["b"], ctx =>
            ++calls >= 4 ? full(ctx.Batch, double.NaN) : ctx["b"].mean([1, 2, 3]));
        using var result = Plan(exploding).Run();
        Assert.Equal(RenderStop.NonFinite, result.Stop);
        Assert.Equal(3, result.StepsDone);
        Assert.True(result.Images.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(32)]
    public void Memory_stays_flat_over_many_steps_whole_or_tiled(int? tile)
    {
        // Live native tensors after 50 and after 400 steps must be the same: every step's temporaries are disposed,
        // tile by tile too.
        long LiveAfter(int steps)
        {
            using var result = Plan("b:2").WithPreset("lucid").Size(48, 72).Tiled(tile).Steps(steps).Run();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        LiveAfter(5);
        long short_ = LiveAfter(50), long_ = LiveAfter(400);
        Assert.Equal(short_, long_);
    }

    [Fact]
    public void Progress_is_told_every_step_and_counts_a_stage_within_its_run()
    {
        var reports = new List<RenderProgress>();
        using var result = Plan("b:2").Steps(5).ReportTo(new SynchronousProgress<RenderProgress>(reports.Add))
            .InStage(new RenderStage("part 2/3", StepsBefore: 5, TotalSteps: 15)).Run();
        Assert.Equal([6, 7, 8, 9, 10], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal((15, "part 2/3"), (r.TotalSteps, r.Stage)));
        Assert.Equal(result.History.Objective, reports.Select(r => r.Objective));
    }

    [Fact]
    public void A_non_square_plan_renders_and_records_its_width_and_height()
    {
        using var result = Plan("b:2").Size(height: 24, width: 56).Steps(3).Run();
        Assert.Equal([1, 3, 24, 56], result.Images.shape);
        Assert.Equal((24, 56), (result.Settings.Height, result.Settings.Width));
        foreach (var preset in PriorPresets.All)
        {
            using var rendered = Plan("b:2").WithPreset(preset).Size(height: 24, width: 56).Steps(2).Run();
            Assert.True(rendered.Images.shape.SequenceEqual([1L, 3, 24, 56]), $"{preset.Name}: [{string.Join(",", rendered.Images.shape)}]");
        }
    }

    [Fact]
    public void Saving_writes_the_image_and_a_sidecar_and_refuses_to_overwrite()
    {
        var path = Path.Combine(_folder, "render.png");
        using var result = Plan("b:2").Batch(2).Run();
        var files = result.Save(path);
        Assert.Equal(["render-0.png", "render-1.png", "render.png", "render.json"], files.Select(Path.GetFileName));
        using var json = JsonDocument.Parse(File.ReadAllText(Sidecar.PathFor(path)));
        var settings = json.RootElement.GetProperty("settings");
        var provenance = json.RootElement.GetProperty("provenance");
        Assert.Equal(3, provenance.GetProperty("seed").GetInt32());
        Assert.Equal("tiny32", provenance.GetProperty("model").GetString());
        Assert.Equal("channel b:2", settings.GetProperty("objective").GetString());
        Assert.Equal(2, settings.GetProperty("batch").GetInt32());
        Assert.Equal(32, settings.GetProperty("width").GetInt32());
        Assert.Equal(json.RootElement.GetProperty("outcome").GetProperty("objectiveCurve").GetArrayLength(), result.StepsDone);
        Assert.Throws<OutputExistsException>(() => result.Save(path));
        result.Save(path, overwrite: true);
    }

    [Fact]
    public void Every_piece_can_be_swapped()
    {
        using var result = Plan("b:0")
            .WithParameterization((h, w, n, s) => Parameterization.Pixel(h, w, n, PixelRange.Clamp, seed: s))
            .WithTransforms(TransformPipeline.None.Jitter(2))
            .WithPenalties(0.1 * Objective.TotalVariation(beta: 2))
            .WithPriors(new PixelClamp())
            .WithOptimizer(new NormalizedAscent(0.01))
            .Run();
        Assert.Null(result.Settings.Preset);
        Assert.InRange(result.Images.min().item<float>(), 0f, 1f);
        Assert.InRange(result.Images.max().item<float>(), 0f, 1f);
    }
}

