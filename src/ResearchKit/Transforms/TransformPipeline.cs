using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace ResearchKit.Transforms;

/// <summary>
/// Transforms applied in order, built fluently: <c>Transform.Pad(12).Jitter(8).Scale(0.9, 1.1).Rotate(-5, 5)</c>.
/// Immutable: every call returns a new pipeline.
/// </summary>
public sealed class TransformPipeline : ITransform
{
    /// <summary>Applies nothing: the image passes through unchanged.</summary>
    public static TransformPipeline None { get; } = new([]);

    /// <summary>
    /// Lucid's standard_transforms (Olah et al. 2017): pad 12 with grey, jitter 8, scale by one of
    /// 1 + (i−5)/50 for i = 0..10, rotate by one of −10..10° (0° given five extra chances), jitter 4.
    /// </summary>
    public static TransformPipeline Standard { get; } = None
        .Pad(12, PadMode.Constant, 0.5)
        .Jitter(8)
        .Scale(Enumerable.Range(0, 11).Select(i => 1 + (i - 5) / 50.0))
        .Rotate(Enumerable.Range(-10, 21).Concat(Enumerable.Repeat(0, 5)).Select(d => (double)d))
        .Jitter(4);

    /// <summary>A pipeline of the given steps.</summary>
    [JsonConstructor]
    public TransformPipeline(IReadOnlyList<ITransform> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Any(s => s is null)) throw new InvalidSettingException("A pipeline step is null.", nameof(steps));
        Steps = steps.ToArray();
    }

    /// <summary>The transforms, first applied first.</summary>
    public IReadOnlyList<ITransform> Steps { get; }

    /// <summary>This pipeline followed by <paramref name="next"/>.</summary>
    public TransformPipeline Then(ITransform next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new([.. Steps, next]);
    }

    /// <summary>Then pad every side by <paramref name="width"/> pixels.</summary>
    public TransformPipeline Pad(int width, PadMode mode = PadMode.Constant, double value = 0.5) => Then(new Pad(width, mode, value));

    /// <summary>Then crop a random window <paramref name="pixels"/> smaller each way.</summary>
    public TransformPipeline Jitter(int pixels) => Then(new Jitter(pixels));

    /// <summary>Then shift by up to <paramref name="pixels"/> each way, wrapping around (DeepDream's jitter).</summary>
    public TransformPipeline Roll(int pixels) => Then(new Roll(pixels));

    /// <summary>Then resize by one of <paramref name="scales"/>.</summary>
    public TransformPipeline Scale(params double[] scales) => Then(new RandomScale(scales));

    /// <summary>Then resize by one of <paramref name="scales"/>.</summary>
    public TransformPipeline Scale(IEnumerable<double> scales) => Then(new RandomScale(scales.ToArray()));

    /// <summary>Then rotate by one of <paramref name="degrees"/>.</summary>
    public TransformPipeline Rotate(params double[] degrees) => Then(new RandomRotate(degrees));

    /// <summary>Then rotate by one of <paramref name="degrees"/>.</summary>
    public TransformPipeline Rotate(IEnumerable<double> degrees) => Then(new RandomRotate(degrees.ToArray()));

    /// <summary>Then crop or pad about the centre to <paramref name="height"/>×<paramref name="width"/>.</summary>
    public TransformPipeline CropOrPad(int height, int width, double value = 0.5) => Then(new CropOrPad(height, width, value));

    /// <summary>Then resize to <paramref name="height"/>×<paramref name="width"/>.</summary>
    public TransformPipeline Resize(int height, int width) => Then(new Resize(height, width));

    /// <summary>
    /// This pipeline behind a <see cref="RandomBackground"/>: images with an alpha channel are composited over random
    /// noise first, then transformed as before.
    /// </summary>
    public TransformPipeline BehindRandomBackground(double std = 0.5) => new([new RandomBackground(std), .. Steps]);

    /// <summary>The side, in pixels, that pixel amounts of the published pipelines (Lucid's pad 12, jitter 8 and 4) were chosen for.</summary>
    public const int ReferenceSide = 224;

    /// <summary>
    /// This pipeline for images whose shorter side is <paramref name="side"/>: below <see cref="ReferenceSide"/> the
    /// pixel amounts of pads, jitters and rolls shrink in proportion (rounded, at least 1 where they were not 0), so a
    /// 32-pixel render is not mostly padding (Lucid's 12/8/4 become 2/1/1); at or above it, the pipeline as it is.
    /// </summary>
    public TransformPipeline ScaledTo(int side)
    {
        if (side >= ReferenceSide) return this;
        int Scaled(int pixels) => pixels == 0 ? 0 : Math.Max(1, (int)Math.Round(pixels * (double)side / ReferenceSide));
        return new([.. Steps.Select(step => step switch
        {
            Pad pad => pad with { Width = Scaled(pad.Width) },
            Jitter jitter => jitter with { Pixels = Scaled(jitter.Pixels) },
            Roll roll => roll with { Pixels = Scaled(roll.Pixels) },
            TransformPipeline inner => inner.ScaledTo(side),
            _ => step,
        })]);
    }

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var x = image.alias();
        foreach (var step in Steps) x = step.Apply(x, rng);
        return x;
    }

    /// <inheritdoc/>
    public string Describe() => Steps.Count == 0 ? "none" : string.Join(" → ", Steps.Select(s => s.Describe()));

    /// <inheritdoc/>
    public override string ToString() => Describe();
}

/// <summary>Starts a <see cref="TransformPipeline"/>: <c>Transform.Pad(12).Jitter(8)</c>.</summary>
public static class Transform
{
    /// <inheritdoc cref="TransformPipeline.Pad"/>
    public static TransformPipeline Pad(int width, PadMode mode = PadMode.Constant, double value = 0.5) => TransformPipeline.None.Pad(width, mode, value);

    /// <inheritdoc cref="TransformPipeline.Jitter"/>
    public static TransformPipeline Jitter(int pixels) => TransformPipeline.None.Jitter(pixels);

    /// <inheritdoc cref="TransformPipeline.Roll"/>
    public static TransformPipeline Roll(int pixels) => TransformPipeline.None.Roll(pixels);

    /// <inheritdoc cref="TransformPipeline.Scale(double[])"/>
    public static TransformPipeline Scale(params double[] scales) => TransformPipeline.None.Scale(scales);

    /// <inheritdoc cref="TransformPipeline.Scale(IEnumerable{double})"/>
    public static TransformPipeline Scale(IEnumerable<double> scales) => TransformPipeline.None.Scale(scales);

    /// <inheritdoc cref="TransformPipeline.Rotate(double[])"/>
    public static TransformPipeline Rotate(params double[] degrees) => TransformPipeline.None.Rotate(degrees);

    /// <inheritdoc cref="TransformPipeline.Rotate(IEnumerable{double})"/>
    public static TransformPipeline Rotate(IEnumerable<double> degrees) => TransformPipeline.None.Rotate(degrees);

    /// <inheritdoc cref="TransformPipeline.CropOrPad"/>
    public static TransformPipeline CropOrPad(int height, int width, double value = 0.5) => TransformPipeline.None.CropOrPad(height, width, value);

    /// <inheritdoc cref="TransformPipeline.Resize"/>
    public static TransformPipeline Resize(int height, int width) => TransformPipeline.None.Resize(height, width);

    /// <summary>The whole degrees (or any integer steps) from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public static double[] Range(int from, int to) =>
        to >= from
            ? Enumerable.Range(from, to - from + 1).Select(i => (double)i).ToArray()
            : throw new InvalidSettingException($"The range end must be ≥ its start ({from}).", nameof(to), to);
}
