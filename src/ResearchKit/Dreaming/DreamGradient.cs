using ResearchKit.Models;
using ResearchKit.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>
/// The gradient DeepDream's step needs: the objective's gradient at the image rolled by a shift (the jitter), returned
/// in the unrolled image's coordinates. Either of the whole image at once, or tile by tile: the tiles partition the
/// rolled image, so the tile grid moves with every step's shift and no seam stays in one place. Each tile is its own
/// small graph, freed before the next, so memory grows with the tile, not the image.
/// </summary>
internal static class DreamGradient
{
    /// <summary>The notebook's way: roll, differentiate, roll the gradient back.</summary>
    public static Tensor Whole(Model model, Objective objective, Tensor image, int shiftY, int shiftX)
    {
        using var scope = NewDisposeScope();
        var rolled = image.roll([shiftY, shiftX], [2, 3]).detach().requires_grad_(true);
        var gradient = Of(model, objective, rolled, weight: 1.0);
        return gradient.roll([-shiftY, -shiftX], [2, 3]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same gradient computed over tiles of at most <paramref name="tile"/> pixels per side. Each tile's objective is
    /// weighted by its share of the image's area, so that objectives averaged over positions (layer, channel,
    /// direction, guide) add up over tiles the way they average over the whole image.
    /// </summary>
    public static Tensor Tiled(Model model, Objective objective, Tensor image, int shiftY, int shiftX, int tile)
    {
        long height = image.shape[2], width = image.shape[3];
        var gradient = zeros_like(image);
        foreach (var t in Tiles(height, width, tile))
        {
            using var scope = NewDisposeScope();
            var (rows, columns) = t.Indices(height, width, shiftY, shiftX, image.device);
            var piece = Crop(image, rows, columns).requires_grad_(true);
            double weight = (double)rows.shape[0] * columns.shape[0] / (height * width);
            var pieceGradient = Of(model, objective, piece, weight);
            gradient.index_put_(pieceGradient, TensorIndex.Ellipsis, TensorIndex.Tensor(rows.unsqueeze(1)), TensorIndex.Tensor(columns.unsqueeze(0)));
        }
        return gradient;
    }

    /// <summary>The objective's value (mean over the batch) at the unshifted image, evaluated tile by tile when <paramref name="tile"/> is given.</summary>
    public static double Value(Model model, Objective objective, Tensor image, int? tile)
    {
        using var noGrad = no_grad();
        long height = image.shape[2], width = image.shape[3];
        double total = 0;
        foreach (var t in Tiles(height, width, tile ?? (int)Math.Max(height, width)))
        {
            using var scope = NewDisposeScope();
            var (rows, columns) = t.Indices(height, width, 0, 0, image.device);
            var piece = Crop(image, rows, columns);
            double weight = (double)rows.shape[0] * columns.shape[0] / (height * width);
            total += weight * Evaluate(model, objective, piece).mean().ToDouble();
        }
        return total;
    }

    /// <summary>
    /// The tiles of an image of the given size: near-equal in size (a 4000-pixel side in 512-pixel tiles gives 8 of
    /// 500), so no sliver of a tile is left at an edge.
    /// </summary>
    internal static IEnumerable<TileRegion> Tiles(long height, long width, int tile) =>
        from rows in Spans(height, tile)
        from columns in Spans(width, tile)
        select new TileRegion(rows.Start, rows.Length, columns.Start, columns.Length);

    static IEnumerable<(long Start, long Length)> Spans(long length, int tile)
    {
        long count = (length + tile - 1) / tile;
        for (long k = 0; k < count; k++)
        {
            long start = k * length / count, end = (k + 1) * length / count;
            yield return (start, end - start);
        }
    }

    static Tensor Crop(Tensor image, Tensor rows, Tensor columns) => image.index_select(2, rows).index_select(3, columns).detach();

    static Tensor Evaluate(Model model, Objective objective, Tensor image) =>
        objective.Evaluate(new ObjectiveContext(model, model.Run(image, objective.Taps), image));

    static Tensor Of(Model model, Objective objective, Tensor leaf, double weight)
    {
        using var enableGrad = enable_grad();
        using var kernels = model.Kernels();
        var value = Evaluate(model, objective, leaf).sum() * weight;
        return autograd.grad([value], [leaf])[0];
    }
}

/// <summary>A rectangle of the rolled image: <see cref="Height"/> rows from <see cref="Top"/>, <see cref="Width"/> columns from <see cref="Left"/>.</summary>
internal readonly record struct TileRegion(long Top, long Height, long Left, long Width)
{
    /// <summary>
    /// The rows and columns of the unrolled image that this tile of the image rolled by (shiftY, shiftX) holds, on
    /// <paramref name="device"/> (the image's; the CPU by default).
    /// </summary>
    public (Tensor Rows, Tensor Columns) Indices(long imageHeight, long imageWidth, int shiftY, int shiftX, Device? device = null) =>
        (arange(Top, Top + Height, device: device ?? CPU).sub_(shiftY).remainder_(imageHeight),
         arange(Left, Left + Width, device: device ?? CPU).sub_(shiftX).remainder_(imageWidth));
}
