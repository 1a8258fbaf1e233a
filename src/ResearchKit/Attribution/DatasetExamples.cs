using ResearchKit.Imaging;
using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Attribution;

/// <summary>One image patch and how strongly it drives a channel.</summary>
/// <param name="File">The image it comes from.</param>
/// <param name="Activation">The channel's activation at the patch's centre position.</param>
/// <param name="Patch">The patch, [1,3,h,w] in [0,1].</param>
/// <param name="X">Left edge of the patch in the resized image.</param>
/// <param name="Y">Top edge of the patch in the resized image.</param>
public sealed record DatasetExample(string File, double Activation, Tensor Patch, int X, int Y) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Patch.Dispose();
}

/// <summary>
/// Dataset examples (Olah et al. 2017): the images, and the patches within them, that drive a channel hardest — what a
/// unit responds to in real data, to set beside its visualization.
/// </summary>
public static class DatasetExamples
{
    static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".webp"];

    /// <summary>
    /// The <paramref name="top"/> patches over the images in <paramref name="folder"/> (each resized to the model's
    /// input size) with the highest activation of <paramref name="channel"/> at <paramref name="layer"/>; at most one
    /// patch per image so the examples are varied. The patch is the receptive field around the strongest position,
    /// approximated as the image region the position's cell covers, widened by half a cell each way.
    /// </summary>
    public static IReadOnlyList<DatasetExample> Find(Model model, string folder, string layer, int channel, int top = 8,
        IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: image folder not found");
        model.CheckChannel(layer, channel);
        var files = Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order().ToList();
        if (files.Count == 0) throw new FileNotFoundException($"{folder}: no images (.jpg, .png, .webp) in the folder");
        var candidates = new List<DatasetExample>();
        int done = 0;
        foreach (var file in files)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var image = ImageIO.Load(file, model.InputWidth, model.InputHeight);
            var map = model.Run(image, layer)[0, channel];
            long h = map.shape[^2], w = map.shape[^1];
            long best = map.flatten().argmax().item<long>();
            double value = map.flatten()[best].item<float>();
            int row = (int)(best / w), column = (int)(best % w);
            double cellH = (double)model.InputHeight / h, cellW = (double)model.InputWidth / w;
            int y0 = (int)Math.Max(0, (row - 0.5) * cellH), x0 = (int)Math.Max(0, (column - 0.5) * cellW);
            int y1 = (int)Math.Min(model.InputHeight, (row + 1.5) * cellH), x1 = (int)Math.Min(model.InputWidth, (column + 1.5) * cellW);
            var patch = image[.., .., y0..y1, x0..x1].clone().DetachFromDisposeScope();
            candidates.Add(new DatasetExample(file, value, patch, x0, y0));
            progress?.Report(++done);
        }
        var chosen = candidates.OrderByDescending(c => c.Activation).Take(top).ToList();
        foreach (var rest in candidates.Except(chosen)) rest.Dispose();
        return chosen;
    }
}
