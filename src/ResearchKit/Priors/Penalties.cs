using System.Globalization;
using static TorchSharp.torch;

namespace ResearchKit.Priors;

/// <summary>Typical magnitudes used to normalize penalties (Mahendran &amp; Vedaldi 2016, IJCV "Visualizing deep CNNs using natural pre-images").</summary>
public static class NaturalImageScale
{
    /// <summary>B: a typical pixel deviation from the mean colour, 80/255 in [0,1] units.</summary>
    public const double PixelRange = 80.0 / 255.0;

    /// <summary>V = B/6.5: a typical difference between neighbouring pixels.</summary>
    public const double NeighbourDifference = PixelRange / 6.5;

    /// <summary>Mid-grey, the colour penalties measure deviations from.</summary>
    public const double Grey = 0.5;

    internal static string F(double v) => v.ToString("0.#####", CultureInfo.InvariantCulture);
}

/// <summary>
/// Total variation V^β (Mahendran &amp; Vedaldi 2015): penalizes differences between neighbouring pixels, so the search
/// prefers piecewise-smooth images. β = 2 (their choice for visualization) smooths everything; β = 1 tolerates edges.
/// Penalty = Weight · <see cref="ImageStatistics.TotalVariation"/>(image, β) / V^β, with V the typical neighbour
/// difference of natural images (<see cref="NaturalImageScale.NeighbourDifference"/>), so a natural image scores about 1.
/// </summary>
public sealed record TotalVariation(double Weight = 1, double Beta = 2) : Prior
{
    /// <summary>Multiplier of the normalized penalty.</summary>
    public double Weight { get; init; } = Weight >= 0 ? Weight : throw new ArgumentOutOfRangeException(nameof(Weight), Weight, "Weights must be ≥ 0.");

    /// <summary>Exponent β (&gt; 0).</summary>
    public double Beta { get; init; } = Beta > 0 ? Beta : throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "β must be > 0.");

    /// <inheritdoc/>
    public override Tensor Penalty(Tensor image) =>
        ImageStatistics.TotalVariation(image, Beta) * (Weight / Math.Pow(NaturalImageScale.NeighbourDifference, Beta));

    /// <inheritdoc/>
    public override string Describe() => $"TV β={NaturalImageScale.F(Beta)} ×{NaturalImageScale.F(Weight)}";
}

/// <summary>
/// α-norm (Mahendran &amp; Vedaldi 2015, α = 6): a steep penalty on pixels far from grey, keeping the image within a
/// natural dynamic range without hard clipping. Penalty = Weight · mean over positions of
/// Σ_channels |x − 0.5|^α / B^α, with B = <see cref="NaturalImageScale.PixelRange"/>.
/// </summary>
public sealed record AlphaNorm(double Weight = 1, double Alpha = 6) : Prior
{
    /// <summary>Multiplier of the normalized penalty.</summary>
    public double Weight { get; init; } = Weight >= 0 ? Weight : throw new ArgumentOutOfRangeException(nameof(Weight), Weight, "Weights must be ≥ 0.");

    /// <summary>Exponent α (≥ 1).</summary>
    public double Alpha { get; init; } = Alpha >= 1 ? Alpha : throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "α must be ≥ 1.");

    /// <inheritdoc/>
    public override Tensor Penalty(Tensor image)
    {
        using var scope = NewDisposeScope();
        var deviation = (image - NaturalImageScale.Grey).abs() / NaturalImageScale.PixelRange;
        return (deviation.pow(Alpha).sum(1).mean([1, 2]) * Weight).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override string Describe() => $"α-norm α={NaturalImageScale.F(Alpha)} ×{NaturalImageScale.F(Weight)}";
}

/// <summary>
/// L2 regularization of the image (Simonyan et al. 2013: maximize S_c(I) − λ‖I‖²₂ on the mean-subtracted image).
/// Penalty = Weight · mean over positions of Σ_channels (x − 0.5)².
/// </summary>
public sealed record L2Decay(double Weight = 1) : Prior
{
    /// <summary>λ.</summary>
    public double Weight { get; init; } = Weight >= 0 ? Weight : throw new ArgumentOutOfRangeException(nameof(Weight), Weight, "Weights must be ≥ 0.");

    /// <inheritdoc/>
    public override Tensor Penalty(Tensor image)
    {
        using var scope = NewDisposeScope();
        return ((image - NaturalImageScale.Grey).square().sum(1).mean([1, 2]) * Weight).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override string Describe() => $"L2 ×{NaturalImageScale.F(Weight)}";
}
