using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Transforms;

/// <summary>
/// Resizes to exactly <see cref="Height"/>×<see cref="Width"/> (bilinear, antialiased when shrinking so that detail
/// finer than the new pixel grid averages out instead of aliasing).
/// </summary>
public sealed record Resize(int Height, int Width) : ITransform
{
    /// <summary>Output height.</summary>
    public int Height { get; init; } = Height >= 1 ? Height : throw new InvalidSettingException("Height must be ≥ 1.", nameof(Height), Height);

    /// <summary>Output width.</summary>
    public int Width { get; init; } = Width >= 1 ? Width : throw new InvalidSettingException("Width must be ≥ 1.", nameof(Width), Width);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        long h = image.shape[2], w = image.shape[3];
        if (h == Height && w == Width) return image.alias();
        bool shrinking = Height < h || Width < w;
        return F.interpolate(image, [Height, Width], mode: InterpolationMode.Bilinear, align_corners: false, antialias: shrinking);
    }

    /// <inheritdoc/>
    public string Describe() => $"resize to {Height}x{Width}";
}
