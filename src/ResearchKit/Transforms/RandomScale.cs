using System.Globalization;
using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Transforms;

/// <summary>
/// Resizes by a factor drawn uniformly from <see cref="Scales"/> (bilinear; output side = round(factor·side)).
/// A factor that leaves the size unchanged returns the input as is.
/// </summary>
public sealed record RandomScale(IReadOnlyList<double> Scales) : ITransform
{
    /// <summary>The factors to choose from (repeat a value to weight it).</summary>
    public IReadOnlyList<double> Scales { get; init; } = Validate(Scales);

    /// <inheritdoc/>
    public Tensor Apply(Tensor image, Random rng)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        double s = Scales[rng.Next(Scales.Count)];
        long h = image.shape[2], w = image.shape[3];
        long nh = Math.Max(1, (long)Math.Round(s * h)), nw = Math.Max(1, (long)Math.Round(s * w));
        if (nh == h && nw == w) return image.alias();
        return F.interpolate(image, [nh, nw], mode: InterpolationMode.Bilinear, align_corners: false);
    }

    /// <inheritdoc/>
    public string Describe() => $"scale {Summary.Of(Scales, "")}";

    static IReadOnlyList<double> Validate(IReadOnlyList<double> scales)
    {
        ArgumentNullException.ThrowIfNull(scales);
        if (scales.Count == 0) throw new InvalidSettingException("Give at least one scale factor.", nameof(Scales));
        foreach (var s in scales)
            if (!(s > 0) || double.IsInfinity(s))
                throw new InvalidSettingException("Scale factors must be positive and finite.", nameof(Scales), s);
        return scales.ToArray();
    }
}

/// <summary>Compact text for a list of choices in captions.</summary>
internal static class Summary
{
    public static string Of(IReadOnlyList<double> values, string unit)
    {
        string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture) + unit;
        if (values.Count == 1) return F(values[0]);
        var distinct = values.Distinct().Count();
        return distinct <= 3
            ? "{" + string.Join(",", values.Distinct().Select(F)) + "}"
            : $"{F(values.Min())}…{F(values.Max())} ({values.Count} choices)";
    }
}
