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
