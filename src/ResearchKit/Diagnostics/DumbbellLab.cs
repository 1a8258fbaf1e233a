using System.Text.Json;
using ResearchKit.Models;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// The dumbbell lab: does a class visualization expose a feature the network learned from its training data? It trains
/// a small classifier on <see cref="SyntheticShapes"/> where an arm accompanies most dumbbells, then measures
/// <list type="bullet">
/// <item>accuracy on the same dumbbells with and without the arm (counterfactual pairs),</item>
/// <item>how readily the arm alone is called "dumbbell",</item>
/// <item>how much arm-like content each class's visualization holds (<see cref="PlantedFeature.Score"/>),</item>
/// </list>
/// and gives a verdict (<see cref="DumbbellReport.ReliesOnPlantedFeature"/>). Run it again with
/// <see cref="DumbbellLabSettings.AsControl"/> for the model that never saw the arm.
/// <code>using var report = DumbbellLab.Run(new DumbbellLabSettings(Seed: 1)); report.WriteTo("out/dumbbell");</code>
/// </summary>
public static partial class DumbbellLab
{
    /// <summary>Trains the classifier and runs every measurement.</summary>
    /// <param name="visualizer">Makes the class visualizations; null uses a <see cref="PresetClassVisualizer"/> with the PixelAscent preset.</param>
    public static DumbbellReport Run(DumbbellLabSettings settings, IClassVisualizer? visualizer = null,
        IProgress<DumbbellLabProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        using var threads = TorchThreads.Use(settings.Threads);
        var shapes = new SyntheticShapes(settings.ImageSize, settings.Seed);
        progress?.Report(new DumbbellLabProgress(DumbbellLabStage.Data, 0));
        using var train = shapes.TrainingSet(settings.TrainImagesPerClass, settings.PlantedProbability);
        using var test = shapes.TestSet(settings.TestImagesPerClass, settings.PlantedProbability);
        using var model = ClassifierTrainer.Build(SyntheticShapes.ClassNames, settings.ImageSize, settings.Width, settings.Seed);
        var history = ClassifierTrainer.Train(model, train, test, settings.Training, TrainingReports(settings, progress), cancellationToken);
        return Measure(model, settings, visualizer, progress, cancellationToken, train, test, history);
    }

    /// <summary>
    /// Runs every measurement on a classifier trained (or loaded) for <paramref name="settings"/>, e.g. from
    /// <see cref="TrainOrLoad"/>, regenerating its training and test sets from the seed.
    /// </summary>
    /// <exception cref="InvalidSettingException">The model is not a classifier of the lab's classes.</exception>
    public static DumbbellReport Evaluate(Model model, DumbbellLabSettings settings, IClassVisualizer? visualizer = null,
        IProgress<DumbbellLabProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        using var threads = TorchThreads.Use(settings.Threads);
        var shapes = new SyntheticShapes(settings.ImageSize, settings.Seed);
        using var train = shapes.TrainingSet(settings.TrainImagesPerClass, settings.PlantedProbability);
        using var test = shapes.TestSet(settings.TestImagesPerClass, settings.PlantedProbability);
        return Measure(model, settings, visualizer, progress, cancellationToken, train, test, []);
    }

    /// <summary>
    /// Loads the classifier saved at <paramref name="weightsPath"/> if it was trained with the same training settings
    /// (recorded in a <c>.json</c> file beside it); otherwise trains one and saves it there. Lets a notebook re-run the
    /// measurements without retraining.
    /// </summary>
    public static SequentialModel TrainOrLoad(DumbbellLabSettings settings, string weightsPath,
        IProgress<DumbbellLabProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        string record = Path.ChangeExtension(weightsPath, ".json");
        if (File.Exists(weightsPath) && File.Exists(record) && RecordedKey(record) == settings.TrainingKey)
            return ClassifierTrainer.Load(weightsPath, SyntheticShapes.ClassNames, settings.ImageSize, settings.Width);

        using var threads = TorchThreads.Use(settings.Threads);
        var shapes = new SyntheticShapes(settings.ImageSize, settings.Seed);
        progress?.Report(new DumbbellLabProgress(DumbbellLabStage.Data, 0));
        using var train = shapes.TrainingSet(settings.TrainImagesPerClass, settings.PlantedProbability);
        using var test = shapes.TestSet(settings.TestImagesPerClass, settings.PlantedProbability);
        var model = ClassifierTrainer.Build(SyntheticShapes.ClassNames, settings.ImageSize, settings.Width, settings.Seed);
        try
        {
            ClassifierTrainer.Train(model, train, test, settings.Training, TrainingReports(settings, progress), cancellationToken);
            ClassifierTrainer.Save(model, weightsPath);
            IO.AtomicFile.WriteAllText(record, JsonSerializer.Serialize(new { trainingKey = settings.TrainingKey, settings }));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static string? RecordedKey(string record)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(record));
            return json.RootElement.TryGetProperty("trainingKey", out var key) ? key.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static DumbbellReport Measure(Model model, DumbbellLabSettings settings, IClassVisualizer? visualizer,
        IProgress<DumbbellLabProgress>? progress, CancellationToken cancellationToken, ShapeSet train, ShapeSet test,
        IReadOnlyList<TrainingProgress> history)
    {
        var classes = SyntheticShapes.ClassNames;
        if (model.Labels.Count != classes.Count)
            throw new InvalidSettingException($"model '{model.Name}' has {model.Labels.Count} class labels; the dumbbell lab needs a classifier of its {classes.Count} classes ({string.Join(", ", classes)})", nameof(model));
        visualizer ??= new PresetClassVisualizer();
        var shapes = new SyntheticShapes(settings.ImageSize, settings.Seed);

        progress?.Report(new DumbbellLabProgress(DumbbellLabStage.Measuring, 0.8));
        double trainAccuracy = ClassifierTrainer.Accuracy(model, train);
        double testAccuracy = ClassifierTrainer.Accuracy(model, test);
        var (with, without) = shapes.CounterfactualDumbbells(settings.ProbeImages);
        using var withFeature = with;
        using var withoutFeature = without;
        using var armOnly = shapes.ArmOnly(settings.ProbeImages);
        var (accuracyWith, probabilityWith) = DumbbellAnswers(model, withFeature);
        var (accuracyWithout, probabilityWithout) = DumbbellAnswers(model, withoutFeature);
        var (armRate, armProbability) = DumbbellAnswers(model, armOnly);

        var images = new List<Tensor>();
        try
        {
            for (int c = 0; c < classes.Count; c++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new DumbbellLabProgress(DumbbellLabStage.Visualizing, 0.85 + 0.15 * c / classes.Count) { Class = classes[c] });
                images.Add(CheckedVisualization(visualizer, model, c, VisualizationSeed(settings.Seed, c), settings.ImageSize, cancellationToken));
            }
            var visualizations = cat(images, 0);
            using var scores = PlantedFeature.Score(visualizations);
            var perClass = scores.data<float>().ToArray();
            int shown = Math.Min(6, settings.ProbeImages);
            var report = new DumbbellReport
            {
                Settings = settings,
                Visualizer = visualizer.Description,
                ClassNames = classes,
                History = history,
                TrainAccuracy = trainAccuracy,
                TestAccuracy = testAccuracy,
                AccuracyWithFeature = accuracyWith,
                AccuracyWithoutFeature = accuracyWithout,
                DumbbellProbabilityWithFeature = probabilityWith,
                DumbbellProbabilityWithoutFeature = probabilityWithout,
                ArmOnlyDumbbellProbability = armProbability,
                ArmOnlyDumbbellRate = armRate,
                PlantedFeatureScores = classes.Select((name, c) => (name, c)).ToDictionary(p => p.name, p => (double)perClass[p.c]),
                Visualizations = visualizations,
                Examples = cat([withFeature.Batch(0, shown), withoutFeature.Batch(0, shown), armOnly.Batch(0, shown)], 0),
            };
            progress?.Report(new DumbbellLabProgress(DumbbellLabStage.Done, 1));
            return report;
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    /// <summary>Fraction of <paramref name="set"/> classified as dumbbell and the mean dumbbell probability.</summary>
    static (double Rate, double Probability) DumbbellAnswers(Model model, ShapeSet set)
    {
        using var scope = NewDisposeScope();
        var probabilities = ClassifierTrainer.Probabilities(model, set.Images);
        var called = probabilities.argmax(1).eq(SyntheticShapes.Dumbbell).to(float64).mean().item<double>();
        return (called, probabilities[.., SyntheticShapes.Dumbbell].mean().item<float>());
    }

    static int VisualizationSeed(int seed, int classIndex) => unchecked(seed * 7919 + classIndex);

    static Tensor CheckedVisualization(IClassVisualizer visualizer, Model model, int classIndex, int seed, int size, CancellationToken cancellationToken)
    {
        var image = visualizer.Visualize(model, classIndex, seed, cancellationToken);
        if (image.dim() != 4 || image.shape[0] != 1 || image.shape[1] != 3 || image.shape[2] < 16 || image.shape[3] < 16)
        {
            var shape = string.Join(",", image.shape);
            image.Dispose();
            throw new InvalidOperationException(
                $"visualizer '{visualizer.Description}' returned shape [{shape}] for class {classIndex}; expected one RGB image [1,3,H,W] (the lab uses {size}x{size})");
        }
        using (image) return image.detach().clamp(0, 1);
    }

    static IProgress<TrainingProgress>? TrainingReports(DumbbellLabSettings settings, IProgress<DumbbellLabProgress>? progress) =>
        progress is null ? null : new SynchronousProgress<TrainingProgress>(epoch =>
            progress.Report(new DumbbellLabProgress(DumbbellLabStage.Training, 0.05 + 0.75 * epoch.Epoch / settings.Epochs, epoch)));
}
