using ResearchKit.Models;
using ResearchKit.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>
/// Tiles for objectives evaluated piece by piece on images too large for one pass (DeepDream on photos of several
/// megapixels): near-equal tiles that partition the image, so memory grows with the tile, not the image. The renderer
/// tiles the transformed image, so with a random roll the tile grid moves every step and no seam stays in one place.
/// </summary>
public static class Tiling
{
    /// <summary>
    /// The tiles of an image of the given size: near-equal in size (a 4000-pixel side in 512-pixel tiles gives 8 of
    /// 500), so no sliver of a tile is left at an edge.
    /// </summary>
    public static IEnumerable<TileRegion> Tiles(long height, long width, int tile) =>
        from rows in Spans(height, tile)
        from columns in Spans(width, tile)
        select new TileRegion(rows.Start, rows.Length, columns.Start, columns.Length);

    /// <summary>
    /// The objective's value (mean over the batch) for <paramref name="image"/>, without gradients, evaluated tile by tile
    /// when <paramref name="tile"/> is given (each tile weighted by its share of the area).
    /// </summary>
    public static double Measure(Model model, Objective objective, Tensor image, int? tile)
    {
        long height = image.shape[2], width = image.shape[3];
        double total = 0;
        foreach (var region in Tiles(height, width, tile ?? (int)Math.Max(height, width)))
        {
            using var scope = NewDisposeScope();
            var piece = region.Of(image);
            double weight = (double)region.Height * region.Width / (height * width);
            total += weight * objective.Evaluate(new ObjectiveContext(model, model.Run(piece, objective.Taps), piece)).mean().ToDouble();
        }
        return total;
    }

    static IEnumerable<(long Start, long Length)> Spans(long length, int tile)
    {
        long count = (length + tile - 1) / tile;
        for (long k = 0; k < count; k++)
        {
            long start = k * length / count, end = (k + 1) * length / count;
            yield return (start, end - start);
        }
    }
}

/// <summary>A rectangle of an image: <see cref="Height"/> rows from <see cref="Top"/>, <see cref="Width"/> columns from <see cref="Left"/>.</summary>
public readonly record struct TileRegion(long Top, long Height, long Left, long Width)
{
    /// <summary>This rectangle of an [N,C,H,W] tensor, as a view.</summary>
    public Tensor Of(Tensor image) => image.narrow(2, Top, Height).narrow(3, Left, Width);
}
