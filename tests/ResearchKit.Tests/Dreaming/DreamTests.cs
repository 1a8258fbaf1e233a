using System.Text.Json;
using ResearchKit.Dreaming;
using ResearchKit.Rendering;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Objectives;
using ResearchKit.Tests.Models;
using Xunit.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Dreaming;

public sealed class DreamTests(ResNet18Fixture fixture, ITestOutputHelper output) : IClassFixture<ResNet18Fixture>, IDisposable
{
    readonly Model _model = fixture.Model;
    readonly string _folder = Directory.CreateTempSubdirectory("rk-dream-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static Tensor Photo(string name = "chelsea", int width = 128) => SampleImages.Load(name, width: width);

    static DreamSettings Quick(Objective objective) => new DreamSettings(objective) with { Octaves = 3, StepsPerOctave = 6, Seed = 1 };

    static DreamSettings Paper(Objective objective) => new DreamSettings(objective) with { Octaves = 3, Seed = 1 };

    double LayerObjective(string layer, Tensor image)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Objective.Layer(layer).Evaluate(new ObjectiveContext(_model, _model.Run(image, [layer]), image)).ToDouble();
    }

    [Theory]
    [InlineData("layer2")]
    [InlineData("layer3")]
    public void The_dreamt_image_raises_the_chosen_layers_objective_well_above_the_photos(string layer)
    {
        using var photo = Photo();
        using var dream = Dream.Run(_model, photo, Paper(layer));
        double before = LayerObjective(layer, photo), after = LayerObjective(layer, dream.Image);
        output.WriteLine($"{layer}: {before:g4} -> {after:g4}");
        Assert.Equal(photo.shape, dream.Image.shape);
        Assert.True(after > 1.5 * before, $"{layer} objective only went from {before:g4} to {after:g4}");
        Assert.Equal(before, dream.ObjectiveBefore, 3);
        Assert.Equal(after, dream.ObjectiveAfter, 3);
        Assert.InRange(dream.Image.min().ToDouble(), 0, 1);
        Assert.InRange(dream.Image.max().ToDouble(), 0, 1);
    }

    [Fact]
    public void Same_seed_gives_the_same_bytes_and_another_seed_does_not()
    {
        using var photo = Photo(width: 96);
        string a = Path.Combine(_folder, "a.png"), b = Path.Combine(_folder, "b.png"), c = Path.Combine(_folder, "c.png");
        var settings = Quick("layer2") with { Octaves = 2, StepsPerOctave = 4, Seed = 7 };
        using (var dream = Dream.Run(_model, photo, settings)) dream.Save(a);
        using (var dream = Dream.Run(_model, photo, settings)) dream.Save(b);
        using (var dream = Dream.Run(_model, photo, settings with { Seed = 8 })) dream.Save(c);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
    }

    [Fact]
    public void A_tile_that_covers_the_image_gives_the_untiled_dream_exactly()
    {
        // The tiled path crops by index arithmetic and writes gradients back by index; the untiled path rolls. Any
        // slip in the arithmetic moves pixels (differences near 1). On the exact kernels the two paths compute the
        // same sums in the same order; oneDNN may order a cropped copy's sums differently from the rolled image's,
        // and eight gradient-normalized steps amplify that rounding.
        using var model = ModelZoo.ResNet18();
        model.UseExecution(ExecutionMode.Exact);
        using var photo = Photo(width: 96);
        var settings = Quick("layer3") with { Octaves = 2, StepsPerOctave = 4, Seed = 3 };
        using var untiled = Dream.Run(model, photo, settings);
        using var tiled = Dream.Run(model, photo, settings with { Tile = 96 });
        double difference = (untiled.Image - tiled.Image).abs().max().ToDouble();
        Assert.True(difference < 1e-6, $"max difference {difference:g3}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    public void Tiles_smaller_than_the_image_leave_no_seam_because_the_grid_moves_with_the_jitter(int jitter)
    {
        // One octave, 128×128 in 64-pixel tiles: without jitter the tile edges stay at rows and columns 64 and show
        // in the detail the dream adds; with the notebook's jitter they move every step and leave nothing to see.
        using var photo = SampleImages.Load("chelsea", width: 128, height: 128);
        var settings = Quick("layer2") with { Octaves = 1, StepsPerOctave = 10, Jitter = jitter, Tile = 64 };
        using var dream = Dream.Run(_model, photo, settings);
        using var scope = NewDisposeScope();
        var detail = dream.Image - photo;
        var columnSteps = (detail[.., .., .., 1..] - detail[.., .., .., ..^1]).abs().mean([0, 1, 2]);   // [127]: step between column c and c+1
        var rowSteps = (detail[.., .., 1.., ..] - detail[.., .., ..^1, ..]).abs().mean([0, 1, 3]);
        double seam = (columnSteps[63].ToDouble() + rowSteps[63].ToDouble()) / 2;
        double typical = (columnSteps.median().ToDouble() + rowSteps.median().ToDouble()) / 2;
        output.WriteLine($"jitter {jitter}: step across the tile edge {seam:g3}, typical step {typical:g3}, ratio {seam / typical:f2}");
        if (jitter == 0) Assert.True(seam > 1.3 * typical, $"a fixed grid should leave a seam: {seam:g3} vs {typical:g3}");
        else Assert.True(seam < 1.15 * typical, $"seam at the tile edge: {seam:g3} vs typical {typical:g3}");
    }

    [Fact]
    public void A_guided_dream_takes_on_the_guides_features_where_an_unguided_dream_does_not()
    {
        // Measured without the objective's scale: each position's best cosine match among the guide's layer3 features,
        // and the cosine between Gram matrices (the guide's "style"). Inflating activations alone raises neither.
        using var photo = Photo(width: 128);
        using var guideImage = Photo("hubble", width: 128);
        var guide = Dream.Guide(_model, "layer3", guideImage, "hubble");
        var settings = Paper(guide);
        using var guided = Dream.Run(_model, photo, settings);
        using var unguided = Dream.Run(_model, photo, settings with { Objective = "layer3" });

        using var noGrad = no_grad();
        var g = _model.Run(guideImage, "layer3")[0].flatten(1);                                   // [C, guide positions]
        (double BestMatch, double Gram) Similarity(Tensor image)
        {
            using var scope = NewDisposeScope();
            var a = _model.Run(image, "layer3")[0].flatten(1);                                    // [C, positions]
            var cosines = matmul(nn.functional.normalize(a, dim: 0).t(), nn.functional.normalize(g, dim: 0));
            var gram = nn.functional.cosine_similarity(matmul(a, a.t()).flatten().unsqueeze(0), matmul(g, g.t()).flatten().unsqueeze(0));
            return (cosines.max(1).values.mean().ToDouble(), gram.ToDouble());
        }
        var (photoMatch, photoGram) = Similarity(photo);
        var (guidedMatch, guidedGram) = Similarity(guided.Image);
        var (unguidedMatch, unguidedGram) = Similarity(unguided.Image);
        output.WriteLine($"best match: photo {photoMatch:f3}, guided {guidedMatch:f3}, unguided {unguidedMatch:f3}; " +
                         $"gram: photo {photoGram:f3}, guided {guidedGram:f3}, unguided {unguidedGram:f3}");
        Assert.True(guided.ObjectiveAfter > 1.3 * guided.ObjectiveBefore, $"guide objective {guided.ObjectiveBefore:g4} -> {guided.ObjectiveAfter:g4}");
        Assert.True(guidedMatch > photoMatch + 0.1 && guidedMatch > unguidedMatch + 0.1, $"best match: photo {photoMatch:f3}, guided {guidedMatch:f3}, unguided {unguidedMatch:f3}");
        Assert.True(guidedGram > photoGram + 0.1 && guidedGram > unguidedGram + 0.1, $"gram: photo {photoGram:f3}, guided {guidedGram:f3}, unguided {unguidedGram:f3}");
        Assert.Equal("guide layer3 (hubble)", guide.Description);
    }

    [Fact]
    public void Progress_and_step_callbacks_follow_every_step_and_cancellation_returns_a_full_size_image()
    {
        using var photo = Photo(width: 96);
        var reports = new List<RenderProgress>();
        var sizes = new List<long>();
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress<RenderProgress>(p => { reports.Add(p); if (p.Step == 5) cts.Cancel(); });
        using var dream = Dream.Run(_model, photo, Quick("layer2"), progress, step => sizes.Add(step.Image.shape[3]), cts.Token);
        Assert.Equal(RenderStop.Cancelled, dream.Stop);
        Assert.Equal(5, dream.StepsDone);
        Assert.Equal([1, 2, 3, 4, 5], reports.Select(r => r.Step));
        Assert.Equal(18, reports[0].TotalSteps);
        Assert.Equal("octave 1/3", reports[^1].Stage);
        Assert.All(sizes, w => Assert.Equal(49L, w));  // 96 → 69 → 49: the smallest octave
        Assert.Equal(photo.shape, dream.Image.shape);
    }

    [Fact]
    public void Copied_steps_outlive_the_dream_at_their_octaves_size()
    {
        using var photo = Photo(width: 64);
        var copies = new List<Tensor>();
        using var dream = Dream.Run(_model, photo, Quick("layer2") with { Octaves = 2, StepsPerOctave = 1 }, onStep: step => copies.Add(step.CopyImage()));
        Assert.Equal([46L, 64L], copies.Select(c => c.shape[3]));
        Assert.True(copies[^1].eq(dream.Image).all().item<bool>());
        foreach (var copy in copies) copy.Dispose();
    }

    [Fact]
    public void Saving_writes_the_image_and_a_sidecar_with_every_setting_and_refuses_to_overwrite()
    {
        using var photo = Photo(width: 64);
        using var dream = Dream.Run(_model, photo, Quick("layer2") with { Octaves = 1, StepsPerOctave = 2, Tile = 48, Seed = 4 });
        string path = Path.Combine(_folder, "dream.png");
        Assert.Equal([path, Path.Combine(_folder, "dream.json")], dream.Save(path, source: "chelsea.jpg", command: "researchkit dream"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "dream.json")));
        var provenance = json.RootElement.GetProperty("provenance");
        var record = json.RootElement.GetProperty("settings");
        var settings = record.GetProperty("settings");
        Assert.Equal("resnet18", provenance.GetProperty("model").GetString());
        Assert.Equal("researchkit dream", provenance.GetProperty("command").GetString());
        Assert.Equal("layer layer2", settings.GetProperty("objective").GetString());
        Assert.Equal(1, settings.GetProperty("octaves").GetInt32());
        Assert.Equal(1.4, settings.GetProperty("octaveScale").GetDouble());
        Assert.Equal(2, settings.GetProperty("stepsPerOctave").GetInt32());
        Assert.Equal(1.5 / 255, settings.GetProperty("stepSize").GetDouble(), 12);
        Assert.Equal(32, settings.GetProperty("jitter").GetInt32());
        Assert.Equal(48, settings.GetProperty("tile").GetInt32());
        Assert.Equal(4, settings.GetProperty("seed").GetInt32());
        Assert.Equal("chelsea.jpg", record.GetProperty("source").GetString());
        Assert.Equal(64, record.GetProperty("width").GetInt32());
        Assert.False(string.IsNullOrEmpty(provenance.GetProperty("libraryVersion").GetString()));
        Assert.Equal("completed", json.RootElement.GetProperty("outcome").GetProperty("stop").GetString());
        Assert.Equal([1, 3, 43, 64], ImageIO.Load(path).shape);
        Assert.Throws<OutputExistsException>(() => dream.Save(path));
        dream.Save(path, overwrite: true);
    }

    [Fact]
    public void Layer_comparison_dreams_each_numbered_layer_and_lays_them_out_with_captions()
    {
        Assert.Equal(["layer1", "layer2", "layer3", "layer4"], _model.NumberedLayers());
        using var photo = Photo(width: 64);
        using var comparison = Dream.CompareLayers(_model, photo, Quick("layer1") with { Octaves = 1, StepsPerOctave = 3 }, ["layer1", "layer2"]);
        Assert.Equal(["layer1", "layer2"], comparison.Dreams.Select(d => d.Layer));
        Assert.All(comparison.Dreams, d => Assert.Equal($"layer {d.Layer}", d.Dream.Record.Settings.ObjectiveDescription));
        Assert.All(comparison.Dreams, d => Assert.True(d.Dream.ObjectiveAfter > d.Dream.ObjectiveBefore));
        string path = Path.Combine(_folder, "sheet.png");
        comparison.Save(path);
        using var sheet = ImageIO.Load(path);
        Assert.True(sheet.shape[3] >= 3 * 64, $"three cells side by side, got width {sheet.shape[3]}");
        Assert.Contains("\"layer2\"", File.ReadAllText(Path.Combine(_folder, "sheet.json")));
        Assert.Throws<UnknownTapException>(() => Dream.CompareLayers(_model, photo, Quick("layer1"), ["layer9"]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(128)]
    public void A_non_square_photo_stays_its_size_whole_or_tiled(int? tile)
    {
        using var photo = SampleImages.Load("chelsea", width: 300, height: 180);
        using var dream = Dream.Run(_model, photo, Quick("layer2") with { Octaves = 2, StepsPerOctave = 2, Tile = tile });
        Assert.Equal([1, 3, 180, 300], dream.Image.shape);
        Assert.Equal((300, 180), (dream.Record.Width, dream.Record.Height));
        Assert.True(dream.ObjectiveAfter > dream.ObjectiveBefore);
    }
}
