using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ResearchKit.Imaging;
using ResearchKit.IO;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// What the dumbbell lab found: how well the classifier does, how much it depends on the planted arm, what its class
/// visualizations contain, and the verdict. Owns its images.
/// </summary>
public sealed record DumbbellReport : IDisposable
{
    /// <summary>The settings the lab ran with.</summary>
    public required DumbbellLabSettings Settings { get; init; }

    /// <summary>How the class visualizations were made.</summary>
    public required string Visualizer { get; init; }

    /// <summary>Class names, index = label.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Per-epoch training reports (empty when a saved model was loaded).</summary>
    public required IReadOnlyList<TrainingProgress> History { get; init; }

    /// <summary>Accuracy on the training set, in evaluation mode.</summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Accuracy on held-out images from the training distribution.</summary>
    public required double TestAccuracy { get; init; }

    /// <summary>Accuracy on held-out dumbbells that carry the arm.</summary>
    public required double AccuracyWithFeature { get; init; }

    /// <summary>Accuracy on the same dumbbells with the arm removed.</summary>
    public required double AccuracyWithoutFeature { get; init; }

    /// <summary>What removing the arm costs: <see cref="AccuracyWithFeature"/> − <see cref="AccuracyWithoutFeature"/>.</summary>
    public double AccuracyDrop => AccuracyWithFeature - AccuracyWithoutFeature;

    /// <summary>Mean "dumbbell" probability on the counterfactual dumbbells with the arm.</summary>
    public required double DumbbellProbabilityWithFeature { get; init; }

    /// <summary>Mean "dumbbell" probability on the same dumbbells without the arm.</summary>
    public required double DumbbellProbabilityWithoutFeature { get; init; }

    /// <summary>Mean "dumbbell" probability on images of the arm alone.</summary>
    public required double ArmOnlyDumbbellProbability { get; init; }

    /// <summary>Fraction of arm-alone images classified as "dumbbell".</summary>
    public required double ArmOnlyDumbbellRate { get; init; }

    /// <summary><see cref="PlantedFeature.Score"/> of each class's visualization, by class name.</summary>
    public required IReadOnlyDictionary<string, double> PlantedFeatureScores { get; init; }

    /// <summary>One visualization per class, [classes,3,H,W], in class order.</summary>
    public required Tensor Visualizations { get; init; }

    /// <summary>A few counterfactual pairs and arm-alone probes, [3k,3,H,W]: k with the arm, the same k without, k arms alone.</summary>
    public required Tensor Examples { get; init; }

    /// <summary>The dumbbell visualization's score minus the highest score among the other classes.</summary>
    public double ScoreMargin =>
        PlantedFeatureScores[ClassNames[SyntheticShapes.Dumbbell]] -
        PlantedFeatureScores.Where(s => s.Key != ClassNames[SyntheticShapes.Dumbbell]).Max(s => s.Value);

    /// <summary>The dumbbell visualization holds arm-like content clearly beyond every other class's.</summary>
    public bool VisualizationShowsFeature => ScoreMargin >= Settings.MinimumScoreMargin;

    /// <summary>Removing the arm from otherwise identical dumbbells costs the model clearly in accuracy.</summary>
    public bool PredictionsDependOnFeature => AccuracyDrop >= Settings.MinimumAccuracyDrop;

    /// <summary>
    /// The verdict. It needs two independent signs: what the model imagines a dumbbell to be (its visualization
    /// shows the arm, <see cref="VisualizationShowsFeature"/>) and what it does (taking the arm away from otherwise
    /// identical dumbbells costs accuracy, <see cref="PredictionsDependOnFeature"/>). Either alone can mislead: a
    /// visualization may pick up colours by chance, and an accuracy drop may come from the arm hiding the bar.
    /// </summary>
    public bool ReliesOnPlantedFeature => Settings.Relies(ScoreMargin, AccuracyDrop);

    /// <summary>The rule behind <see cref="ReliesOnPlantedFeature"/>, in words, with the thresholds used.</summary>
    public string Rule => Settings.Rule;

    /// <summary>
    /// Writes <c>visualizations.png</c> (captioned with each class's score), one <c>visualization-&lt;class&gt;.png</c>
    /// per class, <c>examples.png</c>, <c>summary.json</c> and <c>summary.md</c> into <paramref name="folder"/>,
    /// each file atomically.
    /// </summary>
    /// <returns>The files written.</returns>
    public IReadOnlyList<string> WriteTo(string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        string Target(string name) { var path = Path.Combine(folder, name); written.Add(path); return path; }
        int cell = Math.Max(128, (int)Visualizations.shape[3]);

        var sheet = ContactSheet.Create(columns: ClassNames.Count).CellSize(cell, cell)
            .Title(FormattableString.Invariant($"class visualizations (planted p={Settings.PlantedProbability:0.##}, seed {Settings.Seed})"));
        for (int c = 0; c < ClassNames.Count; c++)
        {
            using var image = Visualizations[c..(c + 1)];
            sheet.Add(image, FormattableString.Invariant($"{ClassNames[c]} {PlantedFeatureScores[ClassNames[c]]:0.000}"));
            ImageIO.Save(image, Target($"visualization-{ClassNames[c]}.png"));
        }
        sheet.Save(Target("visualizations.png"));

        long perRow = Examples.shape[0] / 3;
        ContactSheet.Create(columns: (int)perRow).CellSize(cell, cell)
            .Title("dumbbells with the arm / the same without it / the arm alone")
            .AddBatch(Examples)
            .Save(Target("examples.png"));

        AtomicFile.WriteAllText(Target("summary.json"), ToJson());
        AtomicFile.WriteAllText(Target("summary.md"), ToMarkdown());
        return written;
    }

    /// <summary>The summary as JSON: the verdict, scores, accuracies, training history and settings.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        reliesOnPlantedFeature = ReliesOnPlantedFeature,
        rule = Rule,
        visualizationShowsFeature = VisualizationShowsFeature,
        predictionsDependOnFeature = PredictionsDependOnFeature,
        plantedFeatureScores = PlantedFeatureScores,
        scoreMargin = ScoreMargin,
        counterfactualAccuracy = new { withFeature = AccuracyWithFeature, withoutFeature = AccuracyWithoutFeature, drop = AccuracyDrop },
        dumbbellProbability = new { withFeature = DumbbellProbabilityWithFeature, withoutFeature = DumbbellProbabilityWithoutFeature },
        armOnly = new { dumbbellProbability = ArmOnlyDumbbellProbability, classifiedAsDumbbell = ArmOnlyDumbbellRate },
        trainAccuracy = TrainAccuracy,
        testAccuracy = TestAccuracy,
        seed = Settings.Seed,
        settings = Settings,
        visualizer = Visualizer,
        classes = ClassNames,
        history = History.Select(h => new { h.Epoch, h.Loss, h.TrainAccuracy, h.TestAccuracy, seconds = h.Elapsed.TotalSeconds }),
    }, KitJson.Options);

    /// <summary>The summary as Markdown, for a README or a notebook.</summary>
    public string ToMarkdown()
    {
        var culture = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(culture, $"# Dumbbell lab: {(ReliesOnPlantedFeature ? "the model relies on the planted arm" : "no reliance on the planted arm found")}");
        md.AppendLine();
        md.AppendLine(culture, $"Planted probability {Settings.PlantedProbability:0.##}, seed {Settings.Seed}, {Settings.ImageSize}x{Settings.ImageSize} images, " +
            $"{Settings.TrainImagesPerClass} training images per class, {Settings.Epochs} epochs.");
        md.AppendLine();
        md.AppendLine("| measurement | value |");
        md.AppendLine("|---|---|");
        md.AppendLine(culture, $"| train / test accuracy | {TrainAccuracy:0.000} / {TestAccuracy:0.000} |");
        md.AppendLine(culture, $"| dumbbell accuracy with arm / without | {AccuracyWithFeature:0.000} / {AccuracyWithoutFeature:0.000} (drop {AccuracyDrop:0.000}) |");
        md.AppendLine(culture, $"| p(dumbbell) with arm / without | {DumbbellProbabilityWithFeature:0.000} / {DumbbellProbabilityWithoutFeature:0.000} |");
        md.AppendLine(culture, $"| arm alone: p(dumbbell), called dumbbell | {ArmOnlyDumbbellProbability:0.000}, {ArmOnlyDumbbellRate:0.000} |");
        foreach (var (name, score) in PlantedFeatureScores)
            md.AppendLine(culture, $"| planted-feature score of the {name} visualization | {score:0.0000} |");
        md.AppendLine();
        md.AppendLine(culture, $"Verdict: **{(ReliesOnPlantedFeature ? "relies" : "does not rely")}** on the planted feature. Rule: {Rule}.");
        md.AppendLine(culture, $"Visualization margin {ScoreMargin:0.0000} ({(VisualizationShowsFeature ? "shows" : "does not show")} the feature); " +
            $"accuracy drop {AccuracyDrop:0.000} ({(PredictionsDependOnFeature ? "depends" : "does not depend")} on it).");
        md.AppendLine();
        md.AppendLine(culture, $"Visualizer: {Visualizer}.");
        md.AppendLine();
        md.AppendLine("![class visualizations](visualizations.png)");
        md.AppendLine();
        md.AppendLine("![counterfactual examples](examples.png)");
        return md.ToString();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Visualizations.Dispose();
        Examples.Dispose();
    }
}
