using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Measures how much arm-like content an image holds: skin-coloured pixels that belong to arm-sized strokes.
/// <para>
/// Built to be meaningful on optimized images (class visualizations) as well as on clean drawings: the colour test
/// runs on a lightly blurred copy so pixel noise does not count, and a skin-coloured pixel only counts when a stroke
/// as wide and about a third as long as a forearm, at one of eight orientations, fits through it inside skin-coloured
/// territory (a morphological opening with line elements). Isolated speckles and thin skin-tinted lines, common in
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
        var strokes = StrokeKernels(Math.Min(images.shape[2], images.shape[3]));
        int pad = (int)strokes.shape[2] / 2;
        // Erosion: a stroke centred here lies (mostly) in skin. Dilation: pixels some such stroke covers.
        var fill = F.conv2d(membership, strokes, padding: [pad, pad]);
        var fits = (fill > StrokeFill).to(float32);
        var footprint = (strokes > 0).to(float32);
        var covered = F.conv2d(fits, footprint, padding: [pad, pad], groups: Orientations).amax([1], keepdim: true) > 0.5;
        return (membership * covered).flatten(1).mean([1]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Soft membership in [0,1] of each pixel in the skin-tone range ([N,1,H,W]): red the largest channel and blue the
    /// smallest, hue about 8–45°, saturation at least 0.3, red at least 0.3. Saturation has no upper limit because
    /// visualizations exaggerate the colours a network responds to (skin becomes vivid orange). Computed on a copy
    /// blurred with σ = 0.6 pixels.
    /// </summary>
    public static Tensor SkinMembership(Tensor images)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        var smooth = Priors.ImageFilters.GaussianBlur(images.detach(), 0.6);
        var (r, g, b) = (smooth[.., 0..1], smooth[.., 1..2], smooth[.., 2..3]);
        var chroma = r - b;
        var hue = (g - b) / chroma.clamp_min(1e-3);          // (hue in degrees) / 60 when red ≥ green ≥ blue
        var saturation = chroma / r.clamp_min(1e-3);
        Tensor Above(Tensor t, double edge, double sharpness) => sigmoid((t - edge) * sharpness);
        var membership = Above(chroma, 0.02, 200)
            * Above(hue, 0.13, 40) * Above(-hue, -0.75, 40)
            * Above(saturation, 0.3, 40)
            * Above(r, 0.3, 30);
        return membership.MoveToOuterDisposeScope();
    }

    /// <summary>Line kernels [8,1,k,k], each summing to 1: strokes about 5 % of the image wide and 17 % long.</summary>
    static Tensor StrokeKernels(long imageSize)
    {
        int half = (int)Math.Max(2, Math.Round(0.085 * imageSize));
        double halfWidth = Math.Max(0.5, 0.025 * imageSize);
        int k = 2 * half + 1;
        var offsets = arange(-half, half + 1, dtype: float32);
        var (ys, xs) = (offsets.reshape(1, k, 1), offsets.reshape(1, 1, k));
        var angles = arange(Orientations, dtype: float32).reshape(Orientations, 1, 1) * (float)(Math.PI / Orientations);
        var along = xs * cos(angles) + ys * sin(angles);
        var across = -xs * sin(angles) + ys * cos(angles);
        var inside = (halfWidth + 0.5 - across.abs()).clamp(0, 1) * (half + 0.5 - along.abs()).clamp(0, 1);
        return (inside / inside.sum([1, 2], keepdim: true)).unsqueeze(1);
    }

    static void CheckImages(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] < 16 || images.shape[3] < 16)
            throw new ArgumentException($"expected RGB images of shape [N,3,H,W] with H,W >= 16, got [{string.Join(",", images.shape)}]", nameof(images));
    }
}
