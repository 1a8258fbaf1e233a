using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Transforms;

/// <summary>
/// Brings the image to exactly <see cref="Height"/>×<see cref="Width"/> by cropping or padding (with
/// <see cref="Value"/>) around the centre, for networks that insist on one input size (Lucid's crop_or_pad_to).
/// </summary>
public sealed record CropOrPad(int Height, int Width, double Value = 0.5) : ITransform
{
    /// <summary>Output height.</summary>
    public int Height { get; init; } = Height >= 1 ? Height : throw new InvalidSettingException("Height must be ≥ 1.", nameof(Height), Height);

    /// <summary>Output width.</summary>
    public int Width { get; init; } = Width >= 1 ? Width : throw new InvalidSettingException("Width must be ≥ 1.", nameof(Width), Width);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        var x = Fit(image, 2, Height);
        return Fit(x, 3, Width);
    }

    Tensor Fit(Tensor x, int dim, long size)
    {
        long have = x.shape[dim];
        if (have == size) return x.alias();
        if (have > size) return x.narrow(dim, (have - size) / 2, size);
        long before = (size - have) / 2, after = size - have - before;
        long[] pad = dim == 3 ? [before, after, 0, 0] : [0, 0, before, after];
        return F.pad(x, pad, TorchSharp.PaddingModes.Constant, Value);
    }

    /// <inheritdoc/>
    public string Describe() => $"crop/pad to {Height}x{Width}";
}
