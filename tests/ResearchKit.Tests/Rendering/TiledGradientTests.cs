using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

public sealed class TiledGradientTests : IDisposable
{
    // Two 3×3 convolutions at stride 1: a pixel's gradient depends on the image within 4 pixels of it (2 to reach the
    // activations it feeds, 2 more for what those activations see). Where that neighbourhood lies inside one tile, the
    // tiled gradient must equal the whole-image gradient exactly; near tile edges it must not (tiles are separate graphs).
    const int Reach = 4;
    readonly SequentialModel _model;

    public TiledGradientTests()
    {
        manual_seed(5);
        _model = new SequentialModel("stride1", [
            ("a", nn.Sequential(nn.Conv2d(3, 6, 3, padding: 1), nn.Tanh()).to(float64)),
            ("b", nn.Sequential(nn.Conv2d(6, 4, 3, padding: 1), nn.Tanh()).to(float64)),
        ], 40, 40);
    }

    public void Dispose() => _model.Dispose();

    [Theory]
    [InlineData(0, 0)]
    [InlineData(5, -7)]
    [InlineData(-19, 33)]
    public void Tiled_gradient_equals_the_whole_image_gradient_away_from_tile_edges(int shiftY, int shiftX)
    {
        using var scope = NewDisposeScope();
        const int height = 40, width = 46, tile = 16;
        var image = rand([1, 3, height, width], dtype: float64, generator: new Generator(9));
        var objective = Objective.Layer("b");

        // The renderer's loss, back-propagated through a roll (DeepDream's jitter) to the image, whole and tile by tile.
        Tensor Gradient(int? tiles)
        {
            var leaf = image.clone().requires_grad_(true);
            using var pass = _model.Pass();
            new RenderLoss(objective, null).Backward(pass, leaf.roll([shiftY, shiftX], [2, 3]), leaf, tiles);
            return leaf.grad!.neg();
        }
        var whole = Gradient(null);
        var tiled = Gradient(tile);

        // Tile edges lie in the rolled image; map each pixel to its rolled position to find its distance from them.
        var tiles = Tiling.Tiles(height, width, tile).ToList();
        var rowEdges = tiles.SelectMany(t => new[] { t.Top, t.Top + t.Height }).Distinct().ToList();
        var columnEdges = tiles.SelectMany(t => new[] { t.Left, t.Left + t.Width }).Distinct().ToList();
        Assert.Equal([0L, 13, 26, 40], rowEdges.Order());
        Assert.Equal([0L, 15, 30, 46], columnEdges.Order());
        static bool Inside(long rolled, List<long> edges) => edges.All(e => rolled + 0.5 - e is >= Reach + 0.5 or <= -(Reach + 0.5));

        var inside = new bool[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                inside[y * width + x] = Inside(Mod(y + shiftY, height), rowEdges) && Inside(Mod(x + shiftX, width), columnEdges);
        var interior = tensor(inside, [1, 1, height, width]);
        var mask = interior.expand_as(image);
        Assert.True(interior.sum().ToInt64() > 100, "the check needs a sizeable interior");

        double scale = whole.abs().max().ToDouble();
        double interiorError = (whole - tiled).abs().masked_select(mask).max().ToDouble();
        double edgeError = (whole - tiled).abs().masked_select(mask.logical_not()).max().ToDouble();
        Assert.True(interiorError < 1e-12 * scale, $"interior differs by {interiorError:g3} (gradient scale {scale:g3})");
        Assert.True(edgeError > 1e-4 * scale, $"near tile edges the gradients should differ, but differ only by {edgeError:g3}");
    }

    [Fact]
    public void Tiles_cover_every_pixel_once_in_near_equal_sizes()
    {
        var tiles = Tiling.Tiles(4000, 3000, 512).ToList();
        Assert.Equal(8 * 6, tiles.Count);
        Assert.All(tiles, t => Assert.InRange(t.Height, 500, 500));
        Assert.All(tiles, t => Assert.InRange(t.Width, 500, 500));
        Assert.Equal(4000L * 3000, tiles.Sum(t => t.Height * t.Width));

        using var scope = NewDisposeScope();
        var cover = zeros(1, 1, 37, 29, dtype: int32);
        foreach (var t in Tiling.Tiles(37, 29, 12)) t.Of(cover).add_(1);
        Assert.Equal(1, cover.min().ToInt32());
        Assert.Equal(1, cover.max().ToInt32());
    }

    static long Mod(long a, long n) => ((a % n) + n) % n;
}
