using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>What a dream did, the <c>settings</c> of its sidecar: the dream settings, the image size and the photo it started from.</summary>
/// <param name="Settings">Objective, octaves, steps, step size, jitter, tile and seed.</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
public sealed record DreamRecord(DreamSettings Settings, int Width, int Height)
{
    /// <summary>The photo the dream started from, when known (a path, or e.g. "noise").</summary>
    public string? Source { get; init; }
}

/// <summary>A dreamt image with the record of how it was made and the objective before and after.</summary>
public sealed class DreamResult(Tensor image, DreamRecord record, Provenance provenance, RenderStop stop, int stepsDone,
    double objectiveBefore, double objectiveAfter) : IDisposable
{
    /// <summary>The dream, [1,3,H,W] in [0,1], the photo's size, on the CPU.</summary>
    public Tensor Image { get; } = image;

    /// <summary>What the dream did.</summary>
    public DreamRecord Record { get; } = record;

    /// <summary>The dream settings (shortcut for <c>Record.Settings</c>).</summary>
    public DreamSettings Settings => Record.Settings;

    /// <summary>Where it came from: model, kernels, device, seed, versions.</summary>
    public Provenance Provenance { get; } = provenance;

    /// <summary>Why the dream ended.</summary>
    public RenderStop Stop { get; } = stop;

    /// <summary>Ascent steps done over all octaves.</summary>
    public int StepsDone { get; } = stepsDone;

    /// <summary>The objective on the photo.</summary>
    public double ObjectiveBefore { get; } = objectiveBefore;

    /// <summary>The objective on the dream.</summary>
    public double ObjectiveAfter { get; } = objectiveAfter;

    /// <summary>
    /// Writes the image (PNG, JPEG or WebP by extension) and its <see cref="Sidecar"/> (<c>dream.png</c> → <c>dream.json</c>),
    /// each atomically. <paramref name="source"/> and <paramref name="command"/>, when given, are recorded in the sidecar.
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false, string? source = null, string? command = null)
    {
        Outputs.EnsureWritable(overwrite, path, Sidecar.PathFor(path));
        ImageIO.Save(Image, path);
        var record = Record with { Source = source ?? Record.Source };
        return [path, Sidecar.Write(path, Provenance with { Command = command ?? Provenance.Command }, record, Outcome)];
    }

    /// <summary>The sidecar: provenance, record and outcome.</summary>
    public string ToJson() => Sidecar.ToJson(Provenance, Record, Outcome);

    internal object Outcome => new { stop = Stop, stepsDone = StepsDone, objectiveBefore = ObjectiveBefore, objectiveAfter = ObjectiveAfter };

    /// <inheritdoc/>
    public void Dispose() => Image.Dispose();
}
