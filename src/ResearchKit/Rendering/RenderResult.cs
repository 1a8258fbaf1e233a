using ResearchKit.Imaging;
using ResearchKit.IO;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>What a render produced: the image(s), the per-step history, the settings and provenance, and why it stopped.</summary>
public sealed class RenderResult(Tensor images, RenderHistory history, RenderSettings settings, Provenance provenance, RenderStop stop, int stepsDone)
    : IDisposable
{
    /// <summary>Final images, [N,C,H,W] in [0,1], on the CPU.</summary>
    public Tensor Images { get; } = images;
    /// <summary>Objective and term values per step.</summary>
    public RenderHistory History { get; } = history;
    /// <summary>What the render did.</summary>
    public RenderSettings Settings { get; } = settings;
    /// <summary>Where it came from: model, kernels, device, seed, versions, command.</summary>
    public Provenance Provenance { get; } = provenance;
    /// <summary>Why the render ended.</summary>
    public RenderStop Stop { get; } = stop;
    /// <summary>Steps completed.</summary>
    public int StepsDone { get; } = stepsDone;
    /// <summary>Objective value at the last completed step (NaN when no step ran).</summary>
    public double FinalObjective => History.Objective.Count > 0 ? History.Objective[^1] : double.NaN;

    /// <summary>Batch item <paramref name="index"/> as [1,C,H,W].</summary>
    public Tensor Image(int index = 0) => Images[index..(index + 1)];

    /// <summary>
    /// Writes the image to <paramref name="path"/> (a batch becomes a grid there and one file per item beside it,
    /// <c>name-0.png</c>, ...) and its <see cref="Sidecar"/> (<c>name.json</c>), each atomically.
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false)
    {
        var items = Enumerable.Range(0, (int)Images.shape[0]).Select(i => ItemPath(path, i)).ToList();
        var images = Images.shape[0] == 1 ? [path] : items.Append(path).ToList();
        Outputs.EnsureWritable(overwrite, images.Append(Sidecar.PathFor(path)));
        if (Images.shape[0] == 1)
            ImageIO.Save(Images, path);
        else
        {
            for (int i = 0; i < items.Count; i++) ImageIO.Save(Image(i), items[i]);
            ContactSheet.Create(columns: (int)Math.Ceiling(Math.Sqrt(items.Count))).AddBatch(Images).Save(path);
        }
        return [.. images, Sidecar.Write(path, Provenance, Settings, Outcome)];
    }

    /// <summary>The sidecar: provenance, settings, and the outcome with the objective curve.</summary>
    public string ToJson() => Sidecar.ToJson(Provenance, Settings, Outcome);

    object Outcome => new
    {
        stop = Stop,
        stepsDone = StepsDone,
        finalObjective = FinalObjective,
        finalTerms = History.FinalTerms,
        objectiveCurve = History.Objective,
    };

    static string ItemPath(string path, int index) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{index}{Path.GetExtension(path)}");

    /// <inheritdoc/>
    public void Dispose() => Images.Dispose();
}
