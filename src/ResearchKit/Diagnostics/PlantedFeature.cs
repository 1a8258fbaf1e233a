using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Measures how much arm-like content an image holds: skin-coloured pixels (see <see cref="SkinMembership"/>) that
/// belong to arm-sized strokes.
/// <para>
/// Built to be meaningful on optimized images (class visualizations) as well as on clean drawings. The colour test
/// runs on a lightly blurred copy, so pixel noise does not count, and accepts the exaggerated reds and oranges that
/// visualizations make of skin. A skin-coloured pixel only counts when a stroke about 5 % of the image wide (half a
/// drawn forearm) and 17 % long, at one of eight orientations, fits through it inside skin-coloured territory: a
/// morphological opening with line elements. Isolated speckles and thin skin-tinted lines, common in
/// visualizations, therefore score nothing; arms, fists and broad skin-coloured patches do.
/// </para>
/// </summary>
public static class PlantedFeature
{
    const int Orientations = 8;
    const float StrokeFill = 0.7f;

    /// <summary>
    /// The fraction of each image's area that is skin-coloured and part of an arm-sized stroke ([N], in [0,1]).
    /// A drawn arm covers a few per cent of a synthetic image; images without skin tones score about 0.
    /// </summary>
    /// <param name="images">RGB in [0,1], [N,3,H,W], H and W at least 16.</param>
    public static Tensor Score(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        CheckImages(images);
        var membership = SkinMembership(images);
        long size = Math.Min(images.shape[2], images.shape[3]);
        // A stroke is a digital line of 2·reach+1 pixels thickened by a width×width square.
        int reach = (int)Math.Max(2, Math.Round(0.085 * size));
        int width = 2 * (int)(0.025 * size) + 1;
        var lines = Enumerable.Range(0, Orientations).Select(o => Line(Math.PI * o / Orientations, reach)).ToList();

        // Erosion: the mean membership over a stroke centred at each pixel; a stroke fits where it is mostly skin.
        var thick = F.avg_pool2d(membership, width, stride: 1, padding: width / 2, count_include_pad: true);
        var fits = lines.Select(line => AlongLine(thick, line, reach, (a, b) => a + b) / line.Count > StrokeFill).ToList();
        // Dilation: the pixels that some fitting stroke covers.
        var centres = stack(fits.Select((f, o) => AlongLine(f.to(float32), lines[o], reach, maximum)).ToArray()).amax([0]);
        var covered = F.max_pool2d(centres, width, stride: 1, padding: width / 2);
        return (membership * covered).flatten(1).mean([1]).MoveToOuterDisposeScope();
    }

    /// <summary>The distinct pixel offsets (dy, dx) of a line through the origin at <paramref name="angle"/>.</summary>
    static List<(int Dy, int Dx)> Line(double angle, int reach) =>
        Enumerable.Range(-reach, 2 * reach + 1)
            .Select(t => ((int)Math.Round(t * Math.Sin(angle)), (int)Math.Round(t * Math.Cos(angle))))
            .Distinct().ToList();

    /// <summary>Combines <paramref name="map"/> shifted by every offset of <paramref name="line"/> (zero outside the image).</summary>
    static Tensor AlongLine(Tensor map, List<(int Dy, int Dx)> line, int reach, Func<Tensor, Tensor, Tensor> combine)
    {
        long height = map.shape[2], width = map.shape[3];
        var padded = F.pad(map, [reach, reach, reach, reach]);
        return line.Select(d => padded[.., .., (reach + d.Dy)..(reach + d.Dy + (int)height), (reach + d.Dx)..(reach + d.Dx + (int)width)])
            .Aggregate(combine);
    }

    /// <summary>
    /// Soft membership in [0,1] of each pixel in the planted feature's colour family ([N,1,H,W]): red the largest
    /// channel, hue about −10° to 45° (red through orange, where the drawn skin tones lie at 14–30°), saturation at
    /// least 0.3 and red at least 0.3. Visualizations exaggerate the colour a network responds to — skin becomes vivid
    /// orange or pure red — so neither saturation nor the red end of the hue range is cut off; no object or background
    /// of <see cref="SyntheticShapes"/> has these colours. Computed on a copy blurred with σ = 0.6 pixels.
    /// </summary>
    public static Tensor SkinMembership(Tensor images)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        var smooth = Priors.ImageFilters.GaussianBlur(images.detach(), 0.6);
        var (r, g, b) = (smooth[.., 0..1], smooth[.., 1..2], smooth[.., 2..3]);
        var chroma = r - minimum(g, b);
        var hue = (g - b) / chroma.clamp_min(1e-3);          // HSV hue in degrees / 60 where red is the largest channel
        var saturation = chroma / r.clamp_min(1e-3);
        Tensor Above(Tensor t, double edge, double sharpness) => sigmoid((t - edge) * sharpness);
        var membership = Above(r - maximum(g, b), 0.01, 200)
            * Above(hue, -0.17, 40) * Above(-hue, -0.75, 40)
            * Above(saturation, 0.3, 40)
            * Above(r, 0.3, 30);
        return membership.MoveToOuterDisposeScope();
    }

    static void CheckImages(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] < 16 || images.shape[3] < 16)
            throw new InvalidSettingException($"expected RGB images of shape [N,3,H,W] with H,W >= 16, got [{string.Join(",", images.shape)}]", nameof(images));
    }
}
