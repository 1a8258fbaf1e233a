using ResearchKit.Imaging;
using ResearchKit.IO;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>What a render produced: the image(s), the per-step history, the settings and provenance, and why it stopped.</summary>
public sealed class RenderResult(Tensor images, RenderHistory history, RenderSettings settings, Provenance provenance, RenderStop stop, int stepsDone,
    Tensor? transparencyMap = null, IReadOnlyList<int>? deadItems = null)
    : IDisposable
{
    /// <summary>Final images, [N,C,H,W] in [0,1], on the CPU; with alpha last when <see cref="RenderSettings.Transparent"/>.</summary>
    public Tensor Images { get; } = images;
    /// <summary>
    /// MaCo's transparency map (Fel et al. 2023), [N,1,H,W] on the CPU: per pixel the sum over steps of |∂loss/∂image|
    /// over channels, so where the objective was sensitive; null unless the plan recorded it
    /// (<see cref="RenderPlan.TransparencyMap"/>). <see cref="Save"/> writes it beside the image.
    /// </summary>
    public Tensor? TransparencyMap { get; } = transparencyMap;
    /// <summary>Objective and term values per step.</summary>
    public RenderHistory History { get; } = history;
    /// <summary>What the render did.</summary>
    public RenderSettings Settings { get; } = settings;
    /// <summary>Where it came from: model, kernels, device, seed, versions, command.</summary>
    public Provenance Provenance { get; } = provenance;
    /// <summary>Why the render ended.</summary>
    public RenderStop Stop { get; } = stop;
    /// <summary>
    /// Batch items that started dead: their objective was exactly 0 at every step until the render would have
    /// stopped as <see cref="RenderStop.Dead"/> (after the redirected ReLU's steps, if any); every item when it did.
    /// The other items rendered on, so a batch of units can hold dead ones under a <see cref="RenderStop.Completed"/>.
    /// </summary>
    public IReadOnlyList<int> DeadItems { get; } = deadItems ?? [];
    /// <summary>Why item <paramref name="index"/> ended: <see cref="RenderStop.Dead"/> if it started dead, else <see cref="Stop"/>.</summary>
    public RenderStop StopOf(int index) => DeadItems.Contains(index) ? RenderStop.Dead : Stop;
    /// <summary>Steps completed.</summary>
    public int StepsDone { get; } = stepsDone;
    /// <summary>Objective value at the last completed step (NaN when no step ran).</summary>
    public double FinalObjective => History.Objective.Count > 0 ? History.Objective[^1] : double.NaN;

    /// <summary>Batch item <paramref name="index"/> as [1,C,H,W].</summary>
    public Tensor Image(int index = 0) => Images[index..(index + 1)];

    /// <summary>
    /// Writes the image to <paramref name="path"/> (a batch becomes a grid there and one file per item beside it,
    /// <c>name-0.png</c>, ...) and its <see cref="Sidecar"/> (<c>name.json</c>), each atomically. Transparent renders
    /// are written as RGBA (their grid over a checkerboard). A <see cref="TransparencyMap"/> goes beside the image as
    /// <c>name-transparency.png</c> (grey, each map divided by its maximum) and <c>name-transparency-rgba.png</c> (the
    /// image's colours with that map as alpha).
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<(Tensor Images, string Path, bool Rgba)> { (Images, path, Settings.Transparent) };
        if (TransparencyMap is not null)
        {
            var map = TransparencyMap / TransparencyMap.amax([1, 2, 3], keepdim: true).clamp_min(1e-30);
            var colour = Settings.Transparent ? Images.narrow(1, 0, Images.shape[1] - 1) : Images;
            outputs.Add((map, SuffixedPath(path, "-transparency"), false));
            outputs.Add((cat([colour, map], 1), SuffixedPath(path, "-transparency-rgba"), true));
        }
        var files = outputs.SelectMany(o => FilesFor(o.Path)).ToList();
        Outputs.EnsureWritable(overwrite, files.Append(Sidecar.PathFor(path)));
        foreach (var (images, target, rgba) in outputs) SaveImages(images, target, rgba);
        return [.. files, Sidecar.Write(path, Provenance, Settings, Outcome)];
    }

    IEnumerable<string> FilesFor(string path) =>
        Images.shape[0] == 1 ? [path] : Enumerable.Range(0, (int)Images.shape[0]).Select(i => ItemPath(path, i)).Append(path);

    static void SaveImages(Tensor images, string path, bool rgba)
    {
        if (images.shape[0] == 1)
        {
            if (rgba) ImageIO.SaveRgba(images, path);
            else ImageIO.Save(images, path);
            return;
        }
        var sheet = ContactSheet.Create(columns: (int)Math.Ceiling(Math.Sqrt(images.shape[0])));
        for (int i = 0; i < images.shape[0]; i++)
        {
            var item = images[i..(i + 1)];
            if (rgba)
            {
                ImageIO.SaveRgba(item, ItemPath(path, i));
                sheet.AddTransparent(item);
            }
            else
            {
                ImageIO.Save(item, ItemPath(path, i));
                sheet.Add(item);
            }
        }
        sheet.Save(path);
    }

    static string SuffixedPath(string path, string suffix) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}{suffix}{Path.GetExtension(path)}");

    /// <summary>The sidecar: provenance, settings, and the outcome with the objective curve.</summary>
    public string ToJson() => Sidecar.ToJson(Provenance, Settings, Outcome);

    object Outcome => new
    {
        stop = Stop,
        deadItems = DeadItems,
        stepsDone = StepsDone,
        finalObjective = FinalObjective,
        finalTerms = History.FinalTerms,
        objectiveCurve = History.Objective,
    };

    static string ItemPath(string path, int index) => SuffixedPath(path, $"-{index}");

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        TransparencyMap?.Dispose();
    }
}
