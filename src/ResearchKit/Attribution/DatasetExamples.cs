using ResearchKit.Imaging;
using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Attribution;

/// <summary>One image patch and how strongly it drives a channel.</summary>
/// <param name="File">The image it comes from.</param>
/// <param name="Scale">The image's shorter side, in pixels, when the patch was found (0: resized to the model's input size).</param>
/// <param name="Activation">The channel's activation at the patch's centre position.</param>
/// <param name="MeanActivation">The channel's activation averaged over the image at that size (what a channel objective measures).</param>
/// <param name="Patch">The patch, [1,3,h,w] in [0,1].</param>
/// <param name="X">Left edge of the patch in the resized image.</param>
/// <param name="Y">Top edge of the patch in the resized image.</param>
public sealed record DatasetExample(string File, int Scale, double Activation, double MeanActivation, Tensor Patch, int X, int Y) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Patch.Dispose();
}

/// <summary>A channel's dataset examples, and the largest activation averaged over an image among all the images searched.</summary>
/// <param name="Examples">The strongest patches, strongest first.</param>
/// <param name="BestMeanActivation">The largest <see cref="DatasetExample.MeanActivation"/> over every image searched.</param>
public sealed record ChannelExamples(IReadOnlyList<DatasetExample> Examples, double BestMeanActivation) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var example in Examples) example.Dispose();
    }
}

/// <summary>How the images are searched for examples.</summary>
/// <param name="Scales">Shorter sides, in pixels, each image is seen at (several scales give large and fine structures a
/// chance); null sees each image at the model's input size.</param>
/// <param name="PerImage">Patches an image (at one scale) may give: its strongest positions, at least
/// <paramref name="MinCellsApart"/> grid cells apart so they show different things.</param>
/// <param name="MinCellsApart">Least distance between two patches of one image, in grid positions of the layer (Chebyshev).</param>
public sealed record DatasetSearch(IReadOnlyList<int>? Scales = null, int PerImage = 1, int MinCellsApart = 3);

/// <summary>
/// Dataset examples (Olah et al. 2017): the images, and the patches within them, that drive a channel hardest — what a
/// unit responds to in real data, to set beside its visualization. The patch around a position is its receptive field,
/// approximated as the image region the position's grid cell covers, widened by half a cell each way.
/// </summary>
public static class DatasetExamples
{
    /// <summary>
    /// The <paramref name="top"/> patches over the images in <paramref name="folder"/> with the highest activation of
    /// <paramref name="channel"/> at <paramref name="layer"/>, strongest first; by default each image is resized to the
    /// model's input size and gives at most one patch. See <see cref="FindAll"/>.
    /// </summary>
    public static IReadOnlyList<DatasetExample> Find(Model model, string folder, string layer, int channel, int top = 8,
        DatasetSearch? search = null, IProgress<int>? progress = null, CancellationToken cancellation = default) =>
        FindAll(model, ImageIO.ImagesIn(folder), layer, [channel], top, search, progress, cancellation)[channel].Examples;

    /// <summary>
    /// Dataset examples of many channels of <paramref name="layer"/> in one pass over <paramref name="files"/>: per
    /// channel, the <paramref name="top"/> strongest positions over all images and scales, each cut to its patch.
    /// </summary>
    /// <param name="progress">Told how many images have been read.</param>
    public static IReadOnlyDictionary<int, ChannelExamples> FindAll(Model model, IReadOnlyList<string> files, string layer, IReadOnlyList<int> channels,
        int top = 8, DatasetSearch? search = null, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        search ??= new DatasetSearch();
        if (search.PerImage < 1 || search.MinCellsApart < 1) throw new InvalidSettingException("patches per image and their distance must be at least 1", nameof(search), search);
        foreach (var channel in channels) model.CheckChannel(layer, channel);
        var candidates = channels.ToDictionary(c => c, _ => new List<Candidate>());
        var best = channels.ToDictionary(c => c, _ => double.NegativeInfinity);
        for (int f = 0; f < files.Count; f++)
        {
            foreach (int scale in search.Scales ?? [0])
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var image = Load(model, files[f], scale);
                var map = model.Run(image, layer)[0];                                   // [C, h, w]
                long h = map.shape[^2], w = map.shape[^1];
                var values = map.flatten(1).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
                foreach (var c in channels)
                {
                    var row = new ReadOnlySpan<float>(values, (int)(c * h * w), (int)(h * w));
                    double mean = 0;
                    foreach (var v in row) mean += v;
                    mean /= row.Length;
                    best[c] = Math.Max(best[c], mean);
                    foreach (var position in Strongest(row, w, search.PerImage, search.MinCellsApart))
                        candidates[c].Add(new Candidate(f, scale, row[(int)position], mean, position / w, position % w, h, w, image.shape[2], image.shape[3]));
                }
            }
            progress?.Report(f + 1);
        }
        return candidates.ToDictionary(c => c.Key, c => new ChannelExamples(
            [.. c.Value.OrderByDescending(x => x.Activation).Take(top).Select(x => Cut(model, files[x.File], x))], best[c.Key]));
    }

    sealed record Candidate(int File, int Scale, double Activation, double Mean, long Row, long Column, long GridHeight, long GridWidth,
        long ImageHeight, long ImageWidth);

    /// <summary>The strongest positions of one map, greedily, each at least <paramref name="apart"/> cells from those chosen before.</summary>
    static List<long> Strongest(ReadOnlySpan<float> map, long width, int count, int apart)
    {
        var order = Enumerable.Range(0, map.Length).ToArray();
        var keys = map.ToArray();
        Array.Sort(keys, order);
        var chosen = new List<long>();
        for (int k = order.Length - 1; k >= 0 && chosen.Count < count; k--)
        {
            long p = order[k];
            if (chosen.All(q => Math.Max(Math.Abs(q / width - p / width), Math.Abs(q % width - p % width)) >= apart)) chosen.Add(p);
        }
        return chosen;
    }

    static Tensor Load(Model model, string file, int scale) => scale > 0
        ? ImageOps.ResizeShorterSide(ImageIO.Load(file), scale)
        : ImageIO.Load(file, model.InputWidth, model.InputHeight);

    static DatasetExample Cut(Model model, string file, Candidate c)
    {
        using var scope = NewDisposeScope();
        double cellH = (double)c.ImageHeight / c.GridHeight, cellW = (double)c.ImageWidth / c.GridWidth;
        int y0 = (int)Math.Max(0, (c.Row - 0.5) * cellH), x0 = (int)Math.Max(0, (c.Column - 0.5) * cellW);
        int y1 = (int)Math.Min(c.ImageHeight, (c.Row + 1.5) * cellH), x1 = (int)Math.Min(c.ImageWidth, (c.Column + 1.5) * cellW);
        var patch = Load(model, file, c.Scale)[.., .., y0..y1, x0..x1].clone().DetachFromDisposeScope();
        return new DatasetExample(file, c.Scale, c.Activation, c.Mean, patch, x0, y0);
    }
}
