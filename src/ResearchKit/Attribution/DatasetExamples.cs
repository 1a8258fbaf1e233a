using ResearchKit.Imaging;
using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Attribution;

/// <summary>One image patch and how strongly it drives a channel.</summary>
/// <param name="File">The image it comes from.</param>
/// <param name="Activation">The channel's activation at its strongest position in the image, the patch's centre.</param>
/// <param name="MeanActivation">The channel's activation averaged over the image (what a channel objective measures).</param>
/// <param name="Patch">The patch, [1,3,h,w] in [0,1].</param>
/// <param name="X">Left edge of the patch in the resized image.</param>
/// <param name="Y">Top edge of the patch in the resized image.</param>
public sealed record DatasetExample(string File, double Activation, double MeanActivation, Tensor Patch, int X, int Y) : IDisposable
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

/// <summary>
/// Dataset examples (Olah et al. 2017): the images, and the patches within them, that drive a channel hardest — what a
/// unit responds to in real data, to set beside its visualization.
/// </summary>
public static class DatasetExamples
{
    /// <summary>
    /// The <paramref name="top"/> patches over the images in <paramref name="folder"/> (each resized to the model's
    /// input size) with the highest activation of <paramref name="channel"/> at <paramref name="layer"/>; at most one
    /// patch per image so the examples are varied. See <see cref="FindAll"/>.
    /// </summary>
    public static IReadOnlyList<DatasetExample> Find(Model model, string folder, string layer, int channel, int top = 8,
        IProgress<int>? progress = null, CancellationToken cancellation = default) =>
        FindAll(model, folder, layer, [channel], top, progress, cancellation)[channel].Examples;

    /// <summary>
    /// Dataset examples of many channels of <paramref name="layer"/> in one pass over the images: per channel, the
    /// <paramref name="top"/> images with the highest activation at their strongest position, ranked by it, each cut to
    /// the patch around that position. The patch is the receptive field approximated as the image region the
    /// position's cell covers, widened by half a cell each way.
    /// </summary>
    /// <param name="progress">Told how many images have been read.</param>
    public static IReadOnlyDictionary<int, ChannelExamples> FindAll(Model model, string folder, string layer, IReadOnlyList<int> channels,
        int top = 8, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        foreach (var channel in channels) model.CheckChannel(layer, channel);
        var files = ImageIO.ImagesIn(folder);
        var candidates = channels.ToDictionary(c => c, _ => new List<(int File, double Peak, double Mean, long Position, long H, long W)>());
        for (int f = 0; f < files.Count; f++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var map = model.Run(Load(model, files[f]), layer)[0].flatten(1);   // [C, positions]
            long h = model.Tap(layer).Shape[^2], w = model.Tap(layer).Shape[^1];
            var peaks = map.max(1);
            var peak = peaks.values.cpu().data<float>().ToArray();
            var where = peaks.indexes.cpu().data<long>().ToArray();
            var mean = map.mean([1]).cpu().data<float>().ToArray();
            foreach (var c in channels) candidates[c].Add((f, peak[c], mean[c], where[c], h, w));
            progress?.Report(f + 1);
        }
        return candidates.ToDictionary(c => c.Key, c => new ChannelExamples(
            [.. c.Value.OrderByDescending(x => x.Peak).Take(top)
                .Select(x => Cut(model, files[x.File], x.Peak, x.Mean, (int)(x.Position / x.W), (int)(x.Position % x.W), x.H, x.W))],
            c.Value.Max(x => x.Mean)));
    }

    static Tensor Load(Model model, string file) => ImageIO.Load(file, model.InputWidth, model.InputHeight);

    static DatasetExample Cut(Model model, string file, double peak, double mean, int row, int column, long h, long w)
    {
        using var scope = NewDisposeScope();
        double cellH = (double)model.InputHeight / h, cellW = (double)model.InputWidth / w;
        int y0 = (int)Math.Max(0, (row - 0.5) * cellH), x0 = (int)Math.Max(0, (column - 0.5) * cellW);
        int y1 = (int)Math.Min(model.InputHeight, (row + 1.5) * cellH), x1 = (int)Math.Min(model.InputWidth, (column + 1.5) * cellW);
        var patch = Load(model, file)[.., .., y0..y1, x0..x1].clone().DetachFromDisposeScope();
        return new DatasetExample(file, peak, mean, patch, x0, y0);
    }
}
