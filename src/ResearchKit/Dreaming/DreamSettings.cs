using System.Text.Json.Serialization;
using ResearchKit.Objectives;

namespace ResearchKit.Dreaming;

/// <summary>
/// How to dream: what to maximize and the ascent's schedule. Defaults are the original DeepDream notebook's
/// (Mordvintsev, Olah &amp; Tyka 2015, google/deepdream <c>dream.ipynb</c>), with pixel units converted from its
/// 0–255 images to this kit's [0,1]. Change values with <c>with</c>: <c>new DreamSettings("layer3") with { Octaves = 3 }</c>.
/// </summary>
/// <param name="Objective">What to maximize; <c>"layer3"</c> converts to <see cref="Objective.Layer"/> (the notebook's L2 objective).</param>
public sealed record DreamSettings(Objective Objective)
{
    /// <summary>What to maximize (serialized as its description).</summary>
    [JsonIgnore]
    public Objective Objective { get; init; } = Objective ?? throw new ArgumentNullException(nameof(Objective));

    /// <summary>The objective in words, as written to JSON sidecars.</summary>
    [JsonPropertyName("objective")]
    public string ObjectiveDescription => Objective.Description;

    /// <summary>Number of scales, smallest first; each is <see cref="OctaveScale"/> times the previous (notebook: octave_n=4).</summary>
    public int Octaves { get; init; } = 4;

    /// <summary>Size ratio between neighbouring octaves (notebook: octave_scale=1.4).</summary>
    public double OctaveScale { get; init; } = 1.4;

    /// <summary>Ascent steps at each octave (notebook: iter_n=10).</summary>
    public int StepsPerOctave { get; init; } = 10;

    /// <summary>Mean absolute change of a pixel per step, in [0,1] units (notebook: step_size=1.5 on 0–255 pixels).</summary>
    public double StepSize { get; init; } = 1.5 / 255;

    /// <summary>
    /// Largest random shift (a wrap-around roll) per step, in pixels of the octave being dreamt (notebook: jitter=32).
    /// It is not scaled with the image: it exists to hide the network's stride grid (32 pixels for ResNet-18's
    /// layer4), which is measured in the network's input pixels whatever the photo's size.
    /// </summary>
    public int Jitter { get; init; } = 32;

    /// <summary>
    /// Compute gradients tile by tile, tiles at most this many pixels per side (the grid moves with each step's roll,
    /// so no seams appear); null dreams the whole image at once. Use it for images of several megapixels.
    /// </summary>
    public int? Tile { get; init; }

    /// <summary>Seed of the jitter; the same settings and seed give the same bytes.</summary>
    public int Seed { get; init; }

    /// <summary>Ascent steps over all octaves.</summary>
    [JsonIgnore]
    public int TotalSteps => Octaves * StepsPerOctave;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first setting outside its valid range.</summary>
    public DreamSettings Validate()
    {
        Check(Octaves >= 1, nameof(Octaves), Octaves, "at least 1");
        Check(OctaveScale > 1 && double.IsFinite(OctaveScale), nameof(OctaveScale), OctaveScale, "a finite number above 1");
        Check(StepsPerOctave >= 0, nameof(StepsPerOctave), StepsPerOctave, "0 or more");
        Check(StepSize > 0 && double.IsFinite(StepSize), nameof(StepSize), StepSize, "positive and finite");
        Check(Jitter >= 0, nameof(Jitter), Jitter, "0 or more");
        Check(Tile is null or >= MinTile, nameof(Tile), Tile, $"null (no tiling) or at least {MinTile}");
        return this;
    }

    /// <summary>Smallest tile side accepted.</summary>
    public const int MinTile = 32;

    static void Check(bool valid, string name, object? value, string expected)
    {
        if (!valid) throw new InvalidSettingException($"dream setting {name} is {value ?? "null"}; it must be {expected}", name, value);
    }
}
