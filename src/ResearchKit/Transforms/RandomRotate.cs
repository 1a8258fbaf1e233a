using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Transforms;

/// <summary>
/// Rotates about the centre by an angle drawn uniformly from <see cref="Degrees"/> (positive = counter-clockwise as
/// displayed). Bilinear sampling through affine_grid and grid_sample, so gradients reach every source pixel; the size is
/// kept and corners that fall outside take the nearest border pixel (Lucid fills zeros, which after its grey padding
/// would put black corners in the picture).
/// </summary>
public sealed record RandomRotate(IReadOnlyList<double> Degrees) : ITransform
{
    /// <summary>The angles to choose from, in degrees (repeat a value to weight it).</summary>
    public IReadOnlyList<double> Degrees { get; init; } = Validate(Degrees);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        double angle = Degrees[rng.Next(Degrees.Count)] * Math.PI / 180;
        return Rotate(image, angle);
    }

    /// <summary>Rotates the batch by <paramref name="radians"/> (counter-clockwise as displayed).</summary>
    internal static Tensor Rotate(Tensor image, double radians)
    {
        long n = image.shape[0], h = image.shape[2], w = image.shape[3];
        double c = Math.Cos(radians), s = Math.Sin(radians);
        // Output → input sampling map in grid_sample's normalized coordinates; the H/W factors undo the different
        // normalization of the two axes so that non-square images rotate rigidly.
        double[] theta = [c, -s * h / w, 0, s * w / h, c, 0];
        using var scope = NewDisposeScope();
        var t = tensor(theta, [1, 2, 3], dtype: image.dtype, device: image.device).expand(n, 2, 3);
        var grid = F.affine_grid(t, [n, image.shape[1], h, w], align_corners: false);
        return F.grid_sample(image, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public string Describe() => $"rotate {Summary.Of(Degrees, "°")}";

    static IReadOnlyList<double> Validate(IReadOnlyList<double> degrees)
    {
        ArgumentNullException.ThrowIfNull(degrees);
        if (degrees.Count == 0) throw new InvalidSettingException("Give at least one angle.", nameof(Degrees));
        foreach (var d in degrees)
            if (!double.IsFinite(d)) throw new InvalidSettingException("Angles must be finite.", nameof(Degrees), d);
        return degrees.ToArray();
    }
}
