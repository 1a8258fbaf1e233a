using System.Text.Json;
using ResearchKit.Diagnostics;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Tests.Imaging;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Diagnostics;

/// <summary>
/// A planted and a control model trained once at a tiny setting (32×32 images, 150 per class, 4 epochs): the planted
/// one through <see cref="DumbbellLab.Run"/>, the control through <see cref="DumbbellLab.TrainOrLoad"/> and
/// <see cref="DumbbellLab.Evaluate"/>.
/// </summary>
public sealed class DumbbellLabFixture : IDisposable
{
    public static DumbbellLabSettings Tiny(double plantedProbability) => new(Seed: 1, PlantedProbability: plantedProbability,
        TrainImagesPerClass: 150, Epochs: 4, ImageSize: 32, TestImagesPerClass: 40, ProbeImages: 60, Threads: 1);

    public static IClassVisualizer Visualizer { get; } = new PresetClassVisualizer(Steps: 60);

    readonly TempFolder _folder = new();
    public DumbbellReport Planted { get; }
    public SequentialModel ControlModel { get; }
    public DumbbellReport Control { get; }
    public List<DumbbellLabProgress> PlantedProgress { get; } = [];

    public DumbbellLabFixture()
    {
        Planted = DumbbellLab.Run(Tiny(0.9), Visualizer, new SynchronousProgress<DumbbellLabProgress>(PlantedProgress.Add));
        ControlModel = DumbbellLab.TrainOrLoad(Tiny(0.9).AsControl(), WeightsPath);
        Control = DumbbellLab.Evaluate(ControlModel, Tiny(0.9).AsControl(), Visualizer);
    }

    public string WeightsPath => _folder.File("control.bin");

    public void Dispose()
    {
        Planted.Dispose();
        Control.Dispose();
        ControlModel.Dispose();
        _folder.Dispose();
    }
}

[Collection("Diagnostics")]
public class DumbbellLabTests(DumbbellLabFixture lab) : IClassFixture<DumbbellLabFixture>
{
    [Fact]
    public void The_classifiers_beat_chance_clearly()
    {
        // Five classes: chance is 0.2.
        Assert.True(lab.Planted.TestAccuracy >= 0.5, $"planted test accuracy {lab.Planted.TestAccuracy}");
        Assert.True(lab.Control.TestAccuracy >= 0.5, $"control test accuracy {lab.Control.TestAccuracy}");
        Assert.Equal(4, lab.Planted.History.Count);
        Assert.Contains(lab.PlantedProgress, p => p.Stage == DumbbellLabStage.Training && p.Training?.Epoch == 4);
        Assert.Equal(DumbbellLabStage.Done, lab.PlantedProgress[^1].Stage);
    }

    [Fact]
    public void Removing_the_arm_costs_the_planted_model_far_more_than_the_control()
    {
        Assert.True(lab.Planted.AccuracyDrop > lab.Control.AccuracyDrop + 0.4,
            $"accuracy drop: planted {lab.Planted.AccuracyDrop}, control {lab.Control.AccuracyDrop}");
        Assert.True(lab.Planted.ArmOnlyDumbbellProbability > lab.Control.ArmOnlyDumbbellProbability + 0.3,
            $"p(dumbbell | arm alone): planted {lab.Planted.ArmOnlyDumbbellProbability}, control {lab.Control.ArmOnlyDumbbellProbability}");
    }

    [Fact]
    public void The_planted_models_dumbbell_visualization_shows_the_arm_and_the_controls_does_not()
    {
        Assert.True(lab.Planted.ScoreMargin >= lab.Planted.Settings.MinimumScoreMargin, $"planted margin {lab.Planted.ScoreMargin}");
        Assert.True(lab.Control.ScoreMargin < lab.Control.Settings.MinimumScoreMargin, $"control margin {lab.Control.ScoreMargin}");
        Assert.Equal([5, 3, 32, 32], lab.Planted.Visualizations.shape);
    }

    [Fact]
    public void The_verdict_is_true_for_the_planted_model_and_false_for_the_control()
    {
        Assert.True(lab.Planted.ReliesOnPlantedFeature, lab.Planted.ToMarkdown());
        Assert.False(lab.Control.ReliesOnPlantedFeature, lab.Control.ToMarkdown());
    }

    [Fact]
    public void The_report_writes_images_and_summaries()
    {
        using var folder = new TempFolder();
        var written = lab.Planted.WriteTo(folder.Path);
        Assert.Equal(
            ["examples.png", "summary.json", "summary.md", "visualization-cross.png", "visualization-dumbbell.png", "visualization-ring.png",
             "visualization-star.png", "visualization-triangle.png", "visualizations.png"],
            written.Select(Path.GetFileName).Order());
        using (var image = ImageIO.Load(folder.File("visualization-dumbbell.png")))
            Assert.Equal([1, 3, 32, 32], image.shape);

        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("summary.json")));
        var root = json.RootElement;
        Assert.True(root.GetProperty("reliesOnPlantedFeature").GetBoolean());
        Assert.Equal(1, root.GetProperty("seed").GetInt32());
        Assert.Equal(5, root.GetProperty("plantedFeatureScores").EnumerateObject().Count());
        Assert.Equal(lab.Planted.PlantedFeatureScores["dumbbell"], root.GetProperty("plantedFeatureScores").GetProperty("dumbbell").GetDouble());
        Assert.Equal(lab.Planted.AccuracyWithoutFeature, root.GetProperty("counterfactualAccuracy").GetProperty("withoutFeature").GetDouble());
        Assert.Equal(0.9, root.GetProperty("settings").GetProperty("plantedProbability").GetDouble());
        Assert.Contains("relies", File.ReadAllText(folder.File("summary.md")));
    }

    [Fact]
    public void TrainOrLoad_reuses_weights_saved_for_the_same_settings()
    {
        var settings = DumbbellLabFixture.Tiny(0.9).AsControl();
        var before = File.GetLastWriteTimeUtc(lab.WeightsPath);
        using var again = DumbbellLab.TrainOrLoad(settings, lab.WeightsPath);
        Assert.Equal(before, File.GetLastWriteTimeUtc(lab.WeightsPath));
        using var images = new SyntheticShapes(32, seed: 30).TestSet(4, 0.5);
        using var expected = ClassifierTrainer.Probabilities(lab.ControlModel, images.Images);
        using var actual = ClassifierTrainer.Probabilities(again, images.Images);
        Assert.True(expected.equal(actual).all().item<bool>());
    }

    [Fact]
    public void Pixel_ascent_drives_its_class_above_real_examples_of_it()
    {
        const int ring = 1;
        using var image = DumbbellLabFixture.Visualizer.Visualize(lab.ControlModel, ring, seed: 4);
        using var again = DumbbellLabFixture.Visualizer.Visualize(lab.ControlModel, ring, seed: 4);
        Assert.True(image.equal(again).all().item<bool>(), "the same seed must give the same visualization");
        using var rings = new SyntheticShapes(32, seed: 31).Class(ring, 40);
        using var noGrad = no_grad();
        float visualized = lab.ControlModel.Run(image, "logits")[0, ring].item<float>();
        float typical = lab.ControlModel.Run(rings.Images, "logits")[.., ring].max().item<float>();
        Assert.True(visualized > typical, $"ring logit: visualization {visualized}, best real ring {typical}");
    }
}

/// <summary>The seam: any visualizer plugs in, and the lab scores whatever it returns.</summary>
[Collection("Diagnostics")]
public class ClassVisualizerSeamTests
{
    [Fact]
    public void The_lab_scores_what_the_visualizer_returns()
    {
        var settings = new DumbbellLabSettings(Seed: 2, TrainImagesPerClass: 10, ImageSize: 32, TestImagesPerClass: 5, ProbeImages: 8, Threads: 1);
        var arms = new SyntheticShapes(32, seed: 9);
        var calls = new List<(int Class, int Seed)>();
        var visualizer = ClassVisualizer.From("drawn arms for dumbbell, grey otherwise", (model, c, seed) =>
        {
            calls.Add((c, seed));
            if (c != SyntheticShapes.Dumbbell) return full([1, 3, 32, 32], 0.5f);
            using var set = arms.ArmOnly(1);
            return set.Images.clone();
        });
        using var untrained = ClassifierTrainer.Build(SyntheticShapes.ClassNames, 32);
        using var report = DumbbellLab.Evaluate(untrained, settings, visualizer);

        Assert.Equal([0, 1, 2, 3, 4], calls.Select(c => c.Class));
        Assert.Equal(5, calls.Select(c => c.Seed).Distinct().Count());
        Assert.Equal("drawn arms for dumbbell, grey otherwise", report.Visualizer);
        Assert.True(report.PlantedFeatureScores["dumbbell"] > 0.02);
        Assert.All(report.PlantedFeatureScores.Where(s => s.Key != "dumbbell"), s => Assert.Equal(0, s.Value));
        Assert.True(report.VisualizationShowsFeature);
    }

    [Fact]
    public void A_visualizer_returning_the_wrong_shape_is_named_in_the_error()
    {
        var settings = new DumbbellLabSettings(TrainImagesPerClass: 5, ImageSize: 32, TestImagesPerClass: 5, ProbeImages: 4, Threads: 1);
        var broken = ClassVisualizer.From("broken", (_, _, _) => zeros(3, 32, 32));
        using var untrained = ClassifierTrainer.Build(SyntheticShapes.ClassNames, 32);
        var error = Assert.Throws<InvalidOperationException>(() => DumbbellLab.Evaluate(untrained, settings, broken));
        Assert.Contains("'broken'", error.Message);
        Assert.Contains("[3,32,32]", error.Message);
    }
}

public class DumbbellLabSettingsTests
{
    [Fact]
    public void Settings_print_as_text_and_the_control_differs_only_in_the_planted_probability()
    {
        var settings = new DumbbellLabSettings(Seed: 4, PlantedProbability: 0.8);
        // Notebooks display settings with ToString; a self-returning property once made that recurse until the stack ran out.
        Assert.Contains("PlantedProbability = 0.8", settings.ToString());
        Assert.Equal(settings with { PlantedProbability = 0 }, settings.AsControl());
    }
}
