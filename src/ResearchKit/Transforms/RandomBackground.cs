using ResearchKit.Imaging;
using ResearchKit.Parameterizations;
using static TorchSharp.torch;

namespace ResearchKit.Transforms;

/// <summary>
/// Composites an image with an alpha channel ([N,C+1,H,W], alpha last) over a new random background every step, so
/// that only opaque pixels can drive the network reliably (Lucid's <c>collapse_alpha_random</c>; Mordvintsev et al.
/// 2018). The background is Lucid's choice: a random image of the Fourier parameterization with coefficients of
/// standard deviation <see cref="Std"/> (0.5 in Lucid) — smooth, colourful 1/f noise, blurred by construction, one per
/// batch item — rather than a flat colour, which a unit could learn to ignore. It must come first in the pipeline: it
/// turns the C+1 channels into the network's C.
/// </summary>
public sealed record RandomBackground(double Std = 0.5) : ITransform
{
    /// <summary>Standard deviation of the background's Fourier coefficients (before 1/f scaling).</summary>
    public double Std { get; init; } = Std > 0 && double.IsFinite(Std) ? Std : throw new InvalidSettingException("The background's standard deviation must be positive and finite.", nameof(Std), Std);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        if (image.shape[1] < 2)
            throw new InvalidSettingException($"A random background goes behind an image with an alpha channel (the last of C+1); got {ImageTensors.Shape(image)}.", nameof(image));
        using var scope = NewDisposeScope();
        var background = Background(image, rng);
        return ImageOps.Over(image, background).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The background <see cref="Apply"/> would draw next from <paramref name="rng"/> for <paramref name="image"/>:
    /// [N,C,H,W] in [0,1] on the image's device, constant (no gradient).
    /// </summary>
    public Tensor Background(Tensor image, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int colours = (int)image.shape[1] - 1;
        using var noGrad = no_grad();
        using var noise = Parameterization.Fourier((int)image.shape[2], (int)image.shape[3], (int)image.shape[0], decorrelate: true,
            seed: rng.Next(), std: Std, channels: colours);
        using var scope = NewDisposeScope();
        return noise.Image().to(image.dtype).to(image.device).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public string Describe() => $"random background (1/f noise, std {Std:0.###})";
}
