using ResearchKit.Diagnostics;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using ResearchKit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

public sealed class DeadStartTests : IDisposable
{
    // Channel 0 of "b" is silent on a grey image: its bias sits `margin` below the largest value its convolution reaches
    // there, so an ordinary ReLU passes it no gradient. A margin of 20 no image in range can overcome; 0.02 a few steps can.
    readonly SequentialModel _model = SilentChannelModel(margin: 20);

    public void Dispose() => _model.Dispose();

    static SequentialModel SilentChannelModel(double margin)
    {
        manual_seed(5);
        var a = nn.Conv2d(3, 4, 3, padding: 1);
        var b = nn.Conv2d(4, 2, 3, padding: 1);
        var model = new SequentialModel("silent", [("a", nn.Sequential(a, new RedirectableRelu())), ("b", nn.Sequential(b, new RedirectableRelu()))], 32, 32);
        using (no_grad())
        {
            b.weight!.abs_();
            b.bias![0] = 0f;
            using var grey = full([1, 3, 32, 32], 0.5f);
            float highest = b.call(model.Run(grey, "a"))[.., 0].max().item<float>();
            b.bias![0] = (float)(-highest - margin);
        }
        return model;
    }

    // Sigmoid pixels without transforms: the start is grey within ±0.003, and each step can move a pixel by about 0.01.
    RenderPlan Plan(SequentialModel? model = null) => Render.Plan(model ?? _model, "b:0").WithPreset("none").Size(32).Steps(40).Seed(1);

    [Fact]
    public void Without_the_redirect_a_silent_unit_stops_as_a_dead_start_with_the_image_unchanged()
    {
        using var start = Plan().Steps(1).WithOptimizer(new ResearchKit.Optimization.Adam(1e-12)).RedirectRelu(ReluRedirect.Off).Run();
        using var result = Plan().RedirectRelu(ReluRedirect.Off).Run();
        Assert.Equal(RenderStop.Dead, result.Stop);
        Assert.Equal(Renderer.DeadAfterSteps, result.StepsDone);
        Assert.All(result.History.Objective, v => Assert.Equal(0, v));
        Assert.True((result.Images - start.Images).abs().max().item<float>() < 1e-6f, "a dead render must leave the start as it was");
        Assert.Contains("dead start", result.Stop.Explain(result.StepsDone));
        Assert.Contains("\"stop\": \"dead\"", result.ToJson());
    }

    [Fact]
    public void With_the_redirect_a_unit_silent_at_the_start_wakes_and_without_it_stays_dead()
    {
        using var reachable = SilentChannelModel(margin: 0.02);
        using var off = Plan(reachable).RedirectRelu(ReluRedirect.Off).Run();
        using var on = Plan(reachable).RedirectRelu(ReluRedirect.Lucid).Run();
        Assert.Equal(RenderStop.Dead, off.Stop);
        Assert.Equal(RenderStop.Completed, on.Stop);
        Assert.Equal(0, on.History.Objective[0]);
        Assert.True(on.FinalObjective > 0, $"objective {on.FinalObjective} after 40 steps with the redirect");
        Assert.Contains("\"redirectedRelu\": \"first 16 steps\"", on.ToJson());
        Assert.False(ReluGradient.Redirecting);
    }

    [Fact]
    public void A_batch_names_the_items_that_started_dead_and_renders_the_others_on()
    {
        // Item 0 reads the silent channel, item 1 the live one.
        var objective = Objective.Channel("b", 0, batch: 0) + Objective.Channel("b", 1, batch: 1);
        using var mixed = Render.Plan(_model, objective).WithPreset("none").Size(32).Steps(24).Seed(1).Batch(2).RedirectRelu(ReluRedirect.Off).Run();
        Assert.Equal(RenderStop.Completed, mixed.Stop);
        Assert.Equal(24, mixed.StepsDone);
        Assert.Equal([0], mixed.DeadItems);
        Assert.Equal(RenderStop.Dead, mixed.StopOf(0));
        Assert.Equal(RenderStop.Completed, mixed.StopOf(1));
        var recorded = System.Text.Json.JsonDocument.Parse(mixed.ToJson()).RootElement.GetProperty("outcome").GetProperty("deadItems");
        Assert.Equal([0], recorded.EnumerateArray().Select(e => e.GetInt32()));

        using var live = Render.Plan(_model, "b:1").WithPreset("none").Size(32).Steps(24).Seed(1).Batch(2).RedirectRelu(ReluRedirect.Off).Run();
        Assert.Empty(live.DeadItems);
        using var dead = Render.Plan(_model, "b:0").WithPreset("none").Size(32).Steps(24).Seed(1).Batch(2).RedirectRelu(ReluRedirect.Off).Run();
        Assert.Equal(RenderStop.Dead, dead.Stop);
        Assert.Equal([0, 1], dead.DeadItems);
    }

    [Fact]
    public void A_redirect_throughout_gets_every_step_before_a_dead_start_is_declared()
    {
        using var on = Plan().RedirectRelu(ReluRedirect.Throughout).Run();
        Assert.Equal(40, on.StepsDone);
        Assert.Equal(RenderStop.Dead, on.Stop);
    }

    [Fact]
    public void The_silent_unit_study_finds_the_channel_silent_on_grey_and_shows_what_the_redirect_buys()
    {
        using var reachable = SilentChannelModel(margin: 0.02);
        Assert.Equal([0], SilentUnits.OnGrey(reachable, "b", 32, 32));
        using var photo = full([1, 3, 32, 32], 0.5f);
        using var study = SilentUnits.Study(Plan(reachable), "b", count: 4, new Dictionary<string, Tensor> { ["grey"] = photo },
            [ReluRedirect.Off, ReluRedirect.Lucid]);
        var rows = Assert.Single(study.Channels).Renders.Rows;
        Assert.Equal(RenderStop.Dead, rows[0].Result.Stop);
        Assert.True(rows[1].Objective > study.Channels[0].BestPhoto, $"redirected {rows[1].Objective} vs grey {study.Channels[0].BestPhoto}");
        var summary = study.Summary();
        Assert.Equal((0, 1), (summary[0].PastBestPhoto, summary[1].PastBestPhoto));
        Assert.Contains("| 0 | 0 (grey) | 0 (dead) |", study.ToMarkdown());
        string folder = Directory.CreateTempSubdirectory("rk-silent-").FullName;
        try
        {
            var files = study.Save(Path.Combine(folder, "s.png"));
            Assert.All(files, f => Assert.True(File.Exists(f), f));
            Assert.Contains("\"redirectedRelu\": \"first 16 steps\"", File.ReadAllText(Path.Combine(folder, "s.json")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Without_a_relu_the_redirect_changes_nothing_and_a_zero_objective_is_still_reported_dead()
    {
        manual_seed(9);
        var a = nn.Conv2d(3, 4, 3, padding: 1);
        var b = nn.Conv2d(4, 2, 3, padding: 1);
        using (no_grad())
        {
            // Channel 1 of "b" reads nothing: zero weights and bias, so it is 0 for every image.
            b.weight![1].zero_();
            b.bias![1] = 0f;
        }
        using var model = new SequentialModel("tanh", [("a", nn.Sequential(a, nn.Tanh())), ("b", b)], 32, 32);
        using var off = Render.Plan(model, "b:0").Size(32).Steps(12).Seed(4).RedirectRelu(ReluRedirect.Off).Run();
        using var on = Render.Plan(model, "b:0").Size(32).Steps(12).Seed(4).RedirectRelu(ReluRedirect.Throughout).Run();
        Assert.Equal(0, (off.Images - on.Images).abs().max().item<float>());
        Assert.Equal(off.History.Objective, on.History.Objective);

        using var zero = Render.Plan(model, "b:1").Size(32).Steps(20).Seed(4).Run();
        Assert.Equal(RenderStop.Dead, zero.Stop);
        Assert.Equal(Renderer.DeadAfterSteps, zero.StepsDone);
    }

    [Fact]
    public void Attribution_after_a_redirected_render_sees_the_ordinary_gradient()
    {
        using var image = rand([1, 3, 32, 32], generator: new Generator(2));
        float[] Gradient()
        {
            using var scope = NewDisposeScope();
            var x = image.clone().requires_grad_(true);
            using (var pass = _model.Pass()) pass.Run(x, "b")[.., 0].sum().backward();
            return x.grad!.data<float>().ToArray();
        }
        var before = Gradient();
        using (Plan().RedirectRelu(ReluRedirect.Throughout).Steps(3).Run()) { }
        Assert.Equal(before, Gradient());
        Assert.All(before, g => Assert.Equal(0, g));
    }
}

public class DeadChannelRenderTests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>
{
    readonly Model _model = fixture.Model;

    [Fact]
    public void Layer4_channels_silent_on_grey_render_past_the_best_photo_with_the_default_plan()
    {
        const int size = 128, steps = 48;
        using var grey = full([1, 3, size, size], 0.5f);
        var onGrey = _model.ChannelMeans(grey, "layer4");
        var silent = Enumerable.Range(0, onGrey.Length).Where(c => onGrey[c] == 0).ToList();
        Assert.True(silent.Count > onGrey.Length / 2, $"{silent.Count} of {onGrey.Length} layer4 channels are silent on grey");
        var pick = new Random(2026);
        var sample = silent.OrderBy(_ => pick.Next()).Take(3).ToList();

        var photos = SampleImages.Names.Select(name => SampleImages.Load(name, size, size)).ToList();
        try
        {
            foreach (int channel in sample)
            {
                var objective = Objective.Channel("layer4", channel);
                using var result = Render.Plan(_model, objective).Size(size).Steps(steps).Seed(7).Run();
                Assert.Equal(RenderStop.Completed, result.Stop);
                double rendered = objective.Measure(_model, result.Images)[0];
                double bestPhoto = photos.Max(p => objective.Measure(_model, p)[0]);
                Assert.True(rendered > bestPhoto, $"layer4:{channel}: rendered {rendered:0.###}, best photo {bestPhoto:0.###}");
            }
        }
        finally
        {
            foreach (var p in photos) p.Dispose();
        }
    }
}
