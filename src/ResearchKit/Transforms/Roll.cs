using ResearchKit.Parameterizations;
using static TorchSharp.torch;

namespace ResearchKit.Transforms;

/// <summary>
/// A random wrap-around shift of up to <see cref="Pixels"/> each way (DeepDream's jitter, Mordvintsev et al. 2015):
/// the size is kept and what leaves one edge comes back at the other, so every pixel is seen at a new place on the
/// network's stride grid. <see cref="Jitter"/> (Lucid's) crops instead and makes the image smaller.
/// </summary>
public sealed record Roll(int Pixels) : ITransform
{
    /// <summary>Largest shift in pixels, each way.</summary>
    public int Pixels { get; init; } = Pixels >= 0 ? Pixels : throw new InvalidSettingException("A roll must be ≥ 0 pixels.", nameof(Pixels), Pixels);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        int shiftX = rng.Next(-Pixels, Pixels + 1), shiftY = rng.Next(-Pixels, Pixels + 1);
        return image.roll([shiftY, shiftX], [2, 3]);
    }

    /// <inheritdoc/>
    public string Describe() => $"roll {Pixels}";
}
