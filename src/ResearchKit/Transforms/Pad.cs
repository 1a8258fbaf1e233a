using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Transforms;

/// <summary>How <see cref="Pad"/> fills the border.</summary>
public enum PadMode
{
    /// <summary>A constant value (Lucid pads with 0.5 grey).</summary>
    Constant,

    /// <summary>Mirror the image at its edge (without repeating the edge pixel).</summary>
    Reflect,
}

/// <summary>
/// Adds <see cref="Width"/> pixels on every side. Padding before jitter and rotation keeps the image's own edge from
/// being an edge the network sees at a fixed place.
/// </summary>
public sealed record Pad(int Width, PadMode Mode = PadMode.Constant, double Value = 0.5) : ITransform
{
    /// <summary>Pixels added on each side.</summary>
    public int Width { get; init; } = Width >= 0 ? Width : throw new InvalidSettingException("Padding must be ≥ 0.", nameof(Width), Width);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        if (Width == 0) return image.alias();
        if (Mode == PadMode.Reflect && (Width >= image.shape[2] || Width >= image.shape[3]))
            throw new InvalidSettingException($"Reflect padding of {Width} needs an image larger than {Width} pixels each way; got {ImageTensors.Shape(image)}.", nameof(image));
        long[] pad = [Width, Width, Width, Width];
        return Mode == PadMode.Constant
            ? F.pad(image, pad, TorchSharp.PaddingModes.Constant, Value)
            : F.pad(image, pad, TorchSharp.PaddingModes.Reflect);
    }

    /// <inheritdoc/>
    public string Describe() => Mode == PadMode.Constant ? $"pad {Width} ({Value:0.###})" : $"pad {Width} (reflect)";
}
