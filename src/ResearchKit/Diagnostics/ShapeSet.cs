using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// A labelled batch of synthetic images with the ground truth of the planted feature: which images carry it and
/// the exact pixels it covers. Owns its tensors.
/// </summary>
public sealed class ShapeSet : IDisposable
{
    internal ShapeSet(Tensor images, Tensor labels, Tensor featureMasks)
    {
        Images = images;
        Labels = labels;
        FeatureMasks = featureMasks;
        using var covered = featureMasks.flatten(1).amax([1]) > 0;
        HasFeature = covered.data<bool>().ToArray();
    }

    /// <summary>RGB images in [0,1], [N,3,H,W].</summary>
    public Tensor Images { get; }

    /// <summary>Class index per image (int64, [N]); see <see cref="SyntheticShapes.ClassNames"/>.</summary>
    public Tensor Labels { get; }

    /// <summary>Coverage in [0,1] of the planted feature (the arm) per pixel, [N,1,H,W]; zero where it is absent.</summary>
    public Tensor FeatureMasks { get; }

    /// <summary>Whether each image carries the planted feature.</summary>
    public IReadOnlyList<bool> HasFeature { get; }

    /// <summary>Number of images.</summary>
    public int Count => (int)Images.shape[0];

    /// <summary>The images from <paramref name="start"/> on, at most <paramref name="count"/> of them (a view; no copy).</summary>
    public Tensor Batch(int start, int count) => Images.narrow(0, start, Math.Min(count, Count - start));

    internal static ShapeSet Concat(IReadOnlyList<ShapeSet> parts)
    {
        var set = new ShapeSet(
            cat(parts.Select(p => p.Images).ToArray(), 0),
            cat(parts.Select(p => p.Labels).ToArray(), 0),
            cat(parts.Select(p => p.FeatureMasks).ToArray(), 0));
        foreach (var part in parts) part.Dispose();
        return set;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        FeatureMasks.Dispose();
    }
}
