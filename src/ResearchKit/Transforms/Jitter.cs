using ResearchKit.Parameterizations;
using static TorchSharp.torch;

namespace ResearchKit.Transforms;

/// <summary>
/// A random crop that is <see cref="Pixels"/> smaller each way (Lucid's jitter): offsets are drawn uniformly from
/// 0..Pixels for rows and columns, so the output is [N,3,H−Pixels,W−Pixels]. Cropping is a slice, hence differentiable.
/// </summary>
public sealed record Jitter(int Pixels) : ITransform
{
    /// <summary>Largest shift in pixels, and how much smaller the output is.</summary>
    public int Pixels { get; init; } = Pixels >= 0 ? Pixels : throw new InvalidSettingException("Jitter must be ≥ 0.", nameof(Pixels), Pixels);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        long h = image.shape[2], w = image.shape[3];
        if (Pixels >= h || Pixels >= w)
            throw new InvalidSettingException($"Jitter of {Pixels} needs an image larger than {Pixels} pixels each way; got {ImageTensors.Shape(image)}.", nameof(image));
        int dy = rng.Next(Pixels + 1), dx = rng.Next(Pixels + 1);
        return image.narrow(2, dy, h - Pixels).narrow(3, dx, w - Pixels);
    }

    /// <inheritdoc/>
    public string Describe() => $"jitter {Pixels}";
}
