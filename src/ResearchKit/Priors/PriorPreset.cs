using System.Text.Json.Serialization;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Transforms;

namespace ResearchKit.Priors;

/// <summary>
/// A published recipe for natural-looking visualizations: how the image is parameterized, which transforms act on it,
/// which penalties are subtracted from the objective and which priors edit the pixels after each step, how it is
/// optimized and for how long. The parameterization factory and the penalties serialize as their descriptions.
/// </summary>
/// <param name="Name">Lookup name (case-insensitive in <see cref="PriorPresets.Get"/>).</param>
/// <param name="Paper">The source of the settings, with any deviation noted.</param>
/// <param name="CreateParameterization">(image shape, seed) → a new parameterization (the caller disposes it).</param>
/// <param name="Transforms">Random transforms applied to the image on every step.</param>
/// <param name="Penalties">Regularizer terms subtracted from the objective (null for none).</param>
/// <param name="Priors">Pixel edits after each step, applied in list order.</param>
/// <param name="Optimizer">The update rule.</param>
/// <param name="DefaultSteps">Optimizer steps used when the caller does not say.</param>
public sealed record PriorPreset(
    string Name,
    string Paper,
    [property: JsonIgnore] ParameterizationFactory CreateParameterization,
    TransformPipeline Transforms,
    [property: JsonIgnore] Objective? Penalties,
    IReadOnlyList<StepPrior> Priors,
    OptimizerSettings Optimizer,
    int DefaultSteps)
{
    /// <summary>When renders take the redirected ReLU gradient (<see cref="ReluGradient"/>); off unless the recipe has it.</summary>
    public ReluRedirect RedirectedRelu { get; init; }

    /// <summary>The penalties in words, as JSON records them.</summary>
    [JsonPropertyName("penalties")]
    public string? PenaltiesDescription => Penalties?.Description;

    /// <summary>One line for captions: name, transforms, penalties, priors and optimizer.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Penalties is not null) parts.Add($"minus {Penalties.Description}");
        parts.AddRange(Priors.Select(p => p.Describe()));
        if (RedirectedRelu.IsOn) parts.Add($"redirected ReLU gradient {RedirectedRelu}");
        string priors = parts.Count == 0 ? "no priors" : string.Join(", ", parts);
        return $"{Name}: transforms {Transforms.Describe()}; {priors}; {Optimizer.Describe()}; {DefaultSteps} steps";
    }
}

/// <summary>
/// The presets that reproduce the papers' settings, plus this kit's bilateral variant. Lucid's recipe (and the
/// recipes built on it: Maco, Bilateral, PixelAscent) redirect the ReLU gradient for the first 16 steps, as Lucid's
/// render_vis does; the earlier papers' recipes keep the ordinary gradient, as they had it.
/// </summary>
public static class PriorPresets
{
    // Where a paper's rate was tuned to its own network's gradient scale, a normalized step (same direction, length
    // independent of that scale) replaces it; the L2 penalty of plain gradient ascent is the multiplicative decay
    // θ ← (1 − 2λ·lr)·θ, so it is expressed as a Decay step prior.

    /// <summary>No regularization: sigmoid pixels, no transforms, Adam — the high-frequency baseline.</summary>
    public static PriorPreset None { get; } = new(
        "None",
        "Unregularized baseline (Erhan et al. 2009 activation maximization)",
        (shape, seed) => Parameterization.Pixel(shape, PixelRange.Sigmoid, seed: seed),
        TransformPipeline.None,
        null,
        [],
        new Adam(0.05),
        512);

    /// <summary>Simonyan et al. 2013: pixels from a near-zero (grey) image, plain ascent with L2 decay, clipped to range.</summary>
    public static PriorPreset Simonyan2013 { get; } = new(
        "Simonyan2013",
        "Simonyan, Vedaldi & Zisserman 2013, \"Deep Inside Convolutional Networks\" (L2-regularized ascent; step normalized, λ as decay)",
        (shape, seed) => Parameterization.Pixel(shape, PixelRange.Clamp, std: 0.01, seed: seed),
        TransformPipeline.None,
        null,
        [new Decay(0.02), new PixelClamp()],
        new NormalizedAscent(1.5 / 255),
        256);

    /// <summary>Mahendran &amp; Vedaldi 2015: total variation (β = 2) and the α-norm (α = 6) as penalties.</summary>
    public static PriorPreset MahendranVedaldi2015 { get; } = new(
        "MahendranVedaldi2015",
        "Mahendran & Vedaldi 2015, \"Understanding Deep Image Representations by Inverting Them\" (TV β=2, α-norm α=6; weights ours)",
        (shape, seed) => Parameterization.Pixel(shape, PixelRange.Clamp, std: 0.01, seed: seed),
        TransformPipeline.None,
        0.01 * Objective.TotalVariation(beta: 2) + 0.1 * Objective.AlphaNorm(alpha: 6),
        [new PixelClamp()],
        new Adam(0.01),
        512);

    /// <summary>Yosinski et al. 2015, Table 1, first row: blur 0.5 every 4, norm clipping at the 50th percentile.</summary>
    public static PriorPreset Yosinski2015a { get; } = Yosinski("a", decay: 0, blurEvery: 4, blurSigma: 0.5, normPercentile: 50, contributionPercentile: 0, stepSize: 0.01, steps: 500);

    /// <summary>Yosinski et al. 2015, Table 1, second row: strong decay 0.3, norm clipping at the 20th percentile.</summary>
    public static PriorPreset Yosinski2015b { get; } = Yosinski("b", decay: 0.3, blurEvery: 0, blurSigma: 0, normPercentile: 20, contributionPercentile: 0, stepSize: 0.05, steps: 750);

    /// <summary>Yosinski et al. 2015, Table 1, third row (used for most of the paper's figures): decay 1e-4, blur 1.0 every 4.</summary>
    public static PriorPreset Yosinski2015c { get; } = Yosinski("c", decay: 0.0001, blurEvery: 4, blurSigma: 1.0, normPercentile: 0, contributionPercentile: 0, stepSize: 0.01, steps: 1000);

    /// <summary>Yosinski et al. 2015, Table 1, fourth row: blur 0.5 every 4, contribution clipping at the 90th percentile.</summary>
    public static PriorPreset Yosinski2015d { get; } = Yosinski("d", decay: 0, blurEvery: 4, blurSigma: 0.5, normPercentile: 0, contributionPercentile: 90, stepSize: 0.01, steps: 1000);

    /// <summary>Lucid's defaults: Fourier parameterization with decorrelated colour, the standard transforms, Adam 0.05.</summary>
    public static PriorPreset Lucid { get; } = new(
        "Lucid",
        "Olah, Mordvintsev & Schubert 2017, \"Feature Visualization\" (Lucid render_vis defaults)",
        (shape, seed) => Parameterization.Fourier(shape, decorrelate: true, seed: seed),
        TransformPipeline.Standard,
        null,
        [],
        new Adam(0.05),
        512) { RedirectedRelu = ReluRedirect.Lucid };

    /// <summary>
    /// MaCo (Fel et al. 2023): only the Fourier phase is optimized, the amplitude spectrum fixed to natural photos'
    /// (<see cref="Parameterizations.Maco"/>), with Lucid's transforms and Adam. The paper's own robustness recipe
    /// (many random crops and noise per step, Nadam lr 1.0) is replaced by Lucid's, so the two presets differ only in
    /// the parameterization. Renders record MaCo's transparency map.
    /// </summary>
    public static PriorPreset Maco { get; } = new(
        "Maco",
        "Fel et al. 2023, \"Unlocking Feature Visualization for Deeper Networks with MAgnitude Constrained Optimization\" " +
        "(phase-only Fourier, spectrum of the sample photos; Lucid's transforms and Adam in place of the paper's crops and Nadam)",
        (shape, seed) => Parameterization.Maco(shape, seed),
        TransformPipeline.Standard,
        null,
        [],
        new Adam(0.05),
        512) { RedirectedRelu = ReluRedirect.Lucid };

    /// <summary>This kit's variant: pixels smoothed by an edge-preserving bilateral filter every 4 steps, with Lucid's transforms.</summary>
    public static PriorPreset Bilateral { get; } = new(
        "Bilateral",
        "ResearchKit: Yosinski et al. 2015's periodic blur with a bilateral filter (Tomasi & Manduchi 1998) in its place",
        (shape, seed) => Parameterization.Pixel(shape, PixelRange.Clamp, std: 0.01, seed: seed),
        TransformPipeline.Standard,
        null,
        [new BilateralBlurEvery(Every: 4, SigmaSpace: 1.0, SigmaColor: 0.2), new PixelClamp()],
        new Adam(0.02),
        512) { RedirectedRelu = ReluRedirect.Lucid };

    /// <summary>
    /// The dumbbell lab's class visualizer: Simonyan et al. 2013's class-model ascent on sigmoid pixels from faint noise,
    /// with DeepDream's wrap-around jitter, Yosinski et al. 2015's blur every 4 steps and a light total-variation
    /// penalty (Mahendran &amp; Vedaldi 2015). Made for small images (the lab's 64 px).
    /// </summary>
    public static PriorPreset PixelAscent { get; } = new(
        "PixelAscent",
        "Simonyan et al. 2013 class-model ascent in sigmoid pixel space, with a roll jitter (Mordvintsev et al. 2015), " +
        "Yosinski et al. 2015's blur every 4 steps and total variation (Mahendran & Vedaldi 2015); settings ours",
        (shape, seed) => Parameterization.Pixel(shape, PixelRange.Sigmoid, std: 0.1, seed: seed),
        Transform.Roll(4),
        0.005 * Objective.TotalVariation(beta: 2),
        [new GaussianBlurEvery(Every: 4, Sigma: 0.5)],
        new Adam(0.05),
        160) { RedirectedRelu = ReluRedirect.Lucid };

    /// <summary>Every preset, in the order above.</summary>
    public static IReadOnlyList<PriorPreset> All { get; } =
        [None, Simonyan2013, MahendranVedaldi2015, Yosinski2015a, Yosinski2015b, Yosinski2015c, Yosinski2015d, Lucid, Maco, Bilateral, PixelAscent];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="InvalidSettingException">No preset has that name; the message lists the valid ones.</exception>
    public static PriorPreset Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidSettingException($"Unknown prior preset '{name}'. Valid presets: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));
    }

    // Table 1 of Yosinski, Clune, Nguyen, Fuchs & Lipson 2015, "Understanding Neural Networks Through Deep
    // Visualization": θ_decay, θ_b_every, θ_b_width, θ_n_pct, θ_c_pct; iterations from the authors' optimize_image.py
    // recipes. Start: mean image plus N(0, 10/255) noise; every iteration clips to the valid range.
    static PriorPreset Yosinski(string row, double decay, int blurEvery, double blurSigma, double normPercentile,
        double contributionPercentile, double stepSize, int steps)
    {
        var priors = new List<StepPrior>();
        if (decay > 0) priors.Add(new Decay(decay));
        if (blurEvery > 0 && blurSigma > 0) priors.Add(new GaussianBlurEvery(blurEvery, blurSigma));
        if (normPercentile > 0) priors.Add(new ClipByNorm(normPercentile));
        if (contributionPercentile > 0) priors.Add(new ClipByContribution(contributionPercentile));
        priors.Add(new PixelClamp());
        return new PriorPreset(
            "Yosinski2015" + row,
            $"Yosinski et al. 2015, \"Understanding Neural Networks Through Deep Visualization\", Table 1 setting ({row}) (step normalized; size ours)",
            (shape, seed) => Parameterization.Pixel(shape, PixelRange.Clamp, std: 10.0 / 255, seed: seed),
            TransformPipeline.None,
            null,
            priors,
            new NormalizedAscent(stepSize),
            steps);
    }
}
