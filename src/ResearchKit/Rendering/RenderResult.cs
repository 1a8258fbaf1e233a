using System.Text.Json;
using System.Text.Json.Serialization;
using ResearchKit.Imaging;
using ResearchKit.IO;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>What a render produced: the image(s), the per-step history, the settings and why it stopped.</summary>
public sealed class RenderResult(Tensor images, RenderHistory history, RenderSettings settings, RenderStop stop, int stepsDone) : IDisposable
{
    /// <summary>Final images, [N,3,H,W] in [0,1], on the CPU.</summary>
    public Tensor Images { get; } = images;
    /// <summary>Objective and term values per step.</summary>
    public RenderHistory History { get; } = history;
    /// <summary>Everything needed to render the same image again.</summary>
    public RenderSettings Settings { get; } = settings;
    /// <summary>Why the render ended.</summary>
    public RenderStop Stop { get; } = stop;
    /// <summary>Steps completed.</summary>
    public int StepsDone { get; } = stepsDone;
    /// <summary>Objective value at the last completed step (NaN when no step ran).</summary>
    public double FinalObjective => History.Objective.Count > 0 ? History.Objective[^1] : double.NaN;

    /// <summary>Batch item <paramref name="index"/> as [1,3,H,W].</summary>
    public Tensor Image(int index = 0) => Images[index..(index + 1)];

    /// <summary>
    /// Writes the image to <paramref name="path"/> (a batch becomes a grid there and one file per item beside it,
    /// <c>name-0.png</c>, ...) and the settings to a JSON sidecar (<c>name.json</c>), each atomically.
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false)
    {
        var sidecar = SidecarPath(path);
        var written = new List<string>();
        var items = Enumerable.Range(0, (int)Images.shape[0]).Select(i => ItemPath(path, i)).ToList();
        foreach (var file in (Images.shape[0] == 1 ? [path] : items.Append(path)).Append(sidecar))
            if (!overwrite && File.Exists(file)) throw new OutputExistsException(file);
        if (Images.shape[0] == 1)
            ImageIO.Save(Images, path);
        else
        {
            for (int i = 0; i < items.Count; i++) ImageIO.Save(Image(i), items[i]);
            written.AddRange(items);
            ContactSheet.Create(columns: (int)Math.Ceiling(Math.Sqrt(items.Count))).AddBatch(Images).Save(path);
        }
        written.Add(path);
        AtomicFile.WriteAllText(sidecar, ToJson());
        written.Add(sidecar);
        return written;
    }

    /// <summary>The sidecar: settings, outcome and the objective curve.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        settings = Settings,
        stop = Stop,
        stepsDone = StepsDone,
        finalObjective = FinalObjective,
        finalTerms = History.Terms.ToDictionary(t => t.Key, t => t.Value.Count > 0 ? t.Value[^1] : double.NaN),
        objectiveCurve = History.Objective,
    }, KitJson.Options);

    /// <summary><c>out.png</c> → <c>out.json</c>.</summary>
    public static string SidecarPath(string imagePath) => Path.ChangeExtension(imagePath, ".json");

    static string ItemPath(string path, int index) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{index}{Path.GetExtension(path)}");

    /// <inheritdoc/>
    public void Dispose() => Images.Dispose();
}
