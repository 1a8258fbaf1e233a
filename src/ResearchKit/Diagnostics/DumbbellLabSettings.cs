using System.Text.Json.Serialization;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Settings of the dumbbell lab, after the Inceptionism finding (Mordvintsev, Olah &amp; Tyka 2015) that a network's
/// "dumbbell" came with an arm attached. The defaults train the classifier in well under a minute on two CPU cores.
/// </summary>
/// <param name="Seed">Seeds the data, the weight initialisation, the data order and the visualizations.</param>
/// <param name="PlantedProbability">How often a training dumbbell carries the arm; 0 gives the control model.</param>
/// <param name="TrainImagesPerClass">Training images of each of the five classes.</param>
/// <param name="Epochs">Training passes.</param>
/// <param name="ImageSize">Width and height of the images and of the visualizations (at least 24).</param>
/// <param name="TestImagesPerClass">Held-out images per class from the training distribution.</param>
/// <param name="ProbeImages">Counterfactual dumbbell pairs, and arm-only images, used by the measurements.</param>
/// <param name="BatchSize">Images per training step.</param>
/// <param name="LearningRate">Peak of the one-cycle learning-rate schedule.</param>
/// <param name="Width">Channels of the classifier's first convolution.</param>
/// <param name="Threads">TorchSharp CPU threads during the run; null keeps the process's setting.</param>
/// <param name="MinimumScoreMargin">
/// How far the dumbbell visualization's planted-feature score (a fraction of the image area) must exceed every other
/// class's for the visualization to count as showing the feature.
/// </param>
/// <param name="MinimumAccuracyDrop">
/// How much accuracy on dumbbells must fall when the arm is removed from otherwise identical images for the model to
/// count as depending on it.
/// </param>
public sealed record DumbbellLabSettings(
    int Seed = 0,
    double PlantedProbability = 0.9,
    int TrainImagesPerClass = 300,
    int Epochs = 8,
    int ImageSize = 64,
    int TestImagesPerClass = 100,
    int ProbeImages = 200,
    int BatchSize = 32,
    double LearningRate = 0.01,
    int Width = 8,
    int? Threads = null,
    double MinimumScoreMargin = 0.05,
    double MinimumAccuracyDrop = 0.25)
{
    /// <summary>The same lab with the feature never planted: the model every verdict is compared against.</summary>
    // A method, not a property: a record's ToString prints its properties, and this one would print itself forever.
    public DumbbellLabSettings AsControl() => this with { PlantedProbability = 0 };

    /// <summary>The classifier training these settings imply.</summary>
    [JsonIgnore]
    public TrainingSettings Training => new(Epochs, BatchSize, LearningRate, Seed, Width, Threads);

    /// <summary>
    /// The verdict on a model whose dumbbell visualization beats every other class's planted-feature score by
    /// <paramref name="scoreMargin"/> and whose dumbbell accuracy falls by <paramref name="accuracyDrop"/> without the
    /// arm (see <see cref="DumbbellReport.ReliesOnPlantedFeature"/>).
    /// </summary>
    public bool Relies(double scoreMargin, double accuracyDrop) => scoreMargin >= MinimumScoreMargin && accuracyDrop >= MinimumAccuracyDrop;

    /// <summary>The rule behind <see cref="Relies"/>, in words, with the thresholds.</summary>
    [JsonIgnore]
    public string Rule => FormattableString.Invariant(
        $"relies on the planted feature when the dumbbell visualization's planted-feature score exceeds every other class's by at least {MinimumScoreMargin:0.###} AND removing the arm lowers accuracy on the same dumbbells by at least {MinimumAccuracyDrop:0.###}");

    /// <summary>Checks every value; the message names the setting and its valid range.</summary>
    public DumbbellLabSettings Validate()
    {
        if (PlantedProbability is < 0 or > 1 || double.IsNaN(PlantedProbability))
            throw new InvalidSettingException("PlantedProbability must lie in [0,1]", nameof(PlantedProbability), PlantedProbability);
        if (ImageSize < 24) throw new InvalidSettingException("ImageSize must be at least 24", nameof(ImageSize), ImageSize);
        foreach (var (name, value) in new[] { (nameof(TrainImagesPerClass), TrainImagesPerClass), (nameof(Epochs), Epochs),
                     (nameof(TestImagesPerClass), TestImagesPerClass), (nameof(ProbeImages), ProbeImages), (nameof(BatchSize), BatchSize), (nameof(Width), Width) })
            if (value < 1) throw new InvalidSettingException($"{name} must be at least 1", name, value);
        if (!(LearningRate > 0)) throw new InvalidSettingException("LearningRate must be positive", nameof(LearningRate), LearningRate);
        if (double.IsNaN(MinimumScoreMargin)) throw new InvalidSettingException("MinimumScoreMargin must be a number", nameof(MinimumScoreMargin), MinimumScoreMargin);
        if (double.IsNaN(MinimumAccuracyDrop)) throw new InvalidSettingException("MinimumAccuracyDrop must be a number", nameof(MinimumAccuracyDrop), MinimumAccuracyDrop);
        if (Threads is < 1) throw new InvalidSettingException("Threads must be at least 1 (or null)", nameof(Threads), Threads);
        return this;
    }

    /// <summary>The settings that determine the trained weights (a saved model is reused only when these match).</summary>
    internal string TrainingKey => FormattableString.Invariant(
        $"seed {Seed}, planted {PlantedProbability:R}, {TrainImagesPerClass}/class, {Epochs} epochs, {ImageSize}px, batch {BatchSize}, lr {LearningRate:R}, width {Width}");
}

/// <summary>What the dumbbell lab is doing.</summary>
public enum DumbbellLabStage
{
    /// <summary>Making the synthetic data (the first report of a run).</summary>
    Data,
    /// <summary>Training the classifier.</summary>
    Training,
    /// <summary>Measuring accuracy and counterfactuals.</summary>
    Measuring,
    /// <summary>Rendering a class visualization.</summary>
    Visualizing,
    /// <summary>Finished.</summary>
    Done,
}

/// <summary>Where the lab is: a stage, the fraction of the whole run done, and the epoch report while training.</summary>
/// <param name="Stage">What is running.</param>
/// <param name="Fraction">Rough fraction of the run done, in [0,1].</param>
/// <param name="Training">The latest epoch's report while training.</param>
public sealed record DumbbellLabProgress(DumbbellLabStage Stage, double Fraction, TrainingProgress? Training = null)
{
    /// <summary>The class being visualized, while <see cref="Stage"/> is <see cref="DumbbellLabStage.Visualizing"/>.</summary>
    public string? Class { get; init; }

    /// <summary>The stage in words, e.g. <c>visualizing dumbbell</c>.</summary>
    public string Description => Class is null ? Stage.ToString().ToLowerInvariant() : $"{Stage.ToString().ToLowerInvariant()} {Class}";
}
