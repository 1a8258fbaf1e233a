using System.Text.Json;
using System.Text.Json.Serialization;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>Why a dream ended.</summary>
public enum DreamStop
{
    /// <summary>Every step ran.</summary>
    Completed,
    /// <summary>Cancelled; the detail dreamt so far was carried up to full size without further steps.</summary>
    Cancelled,
    /// <summary>The gradient became NaN or infinite; the dream stopped before that step, and the detail dreamt so far
    /// was carried up to full size.</summary>
    NonFinite,
}

/// <summary>
/// Everything that determined a dream, written as JSON next to its image: the same record and photo give the same bytes.
/// </summary>
/// <param name="Model">Model name.</param>
/// <param name="Normalization">How pixels became network input.</param>
/// <param name="Settings">Objective, octaves, steps, step size, jitter, tile and seed.</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
public sealed record DreamRecord(string Model, string Normalization, DreamSettings Settings, int Width, int Height)
{
    /// <summary>The photo the dream started from, when known (a path, or e.g. "noise").</summary>
    public string? Source { get; init; }

    /// <summary>Where it was computed: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>How the model's convolutions ran: <c>exact</c>, <c>fast</c> or <c>bf16</c>.</summary>
    public string Kernels { get; init; } = "exact";

    /// <summary>The command line that produced the dream, when there was one.</summary>
    public string? Command { get; init; }

    /// <summary>ResearchKit version.</summary>
    public string LibraryVersion { get; init; } = RenderSettings.Version;

    /// <summary>TorchSharp version.</summary>
    public string TorchSharpVersion { get; init; } = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?";

}

/// <summary>A dreamt image with the record of how it was made and the objective before and after.</summary>
public sealed class DreamResult(Tensor image, DreamRecord record, DreamStop stop, int stepsDone, double objectiveBefore, double objectiveAfter) : IDisposable
{
    /// <summary>The dream, [1,3,H,W] in [0,1], the photo's size, on the CPU.</summary>
    public Tensor Image { get; } = image;

    /// <summary>How it was made.</summary>
    public DreamRecord Record { get; } = record;

    /// <summary>Why the dream ended.</summary>
    public DreamStop Stop { get; } = stop;

    /// <summary>Ascent steps done over all octaves.</summary>
    public int StepsDone { get; } = stepsDone;

    /// <summary>The objective on the photo.</summary>
    public double ObjectiveBefore { get; } = objectiveBefore;

    /// <summary>The objective on the dream.</summary>
    public double ObjectiveAfter { get; } = objectiveAfter;

    /// <summary>
    /// Writes the image (PNG, JPEG or WebP by extension) and its JSON sidecar (<c>dream.png</c> → <c>dream.json</c>),
    /// each atomically. <paramref name="source"/> and <paramref name="command"/>, when given, are recorded in the sidecar.
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false, string? source = null, string? command = null)
    {
        string sidecar = RenderResult.SidecarPath(path);
        foreach (var file in new[] { path, sidecar })
            if (!overwrite && File.Exists(file)) throw new OutputExistsException(Path.GetFullPath(file));
        ImageIO.Save(Image, path);
        AtomicFile.WriteAllText(sidecar, ToJson(Record with { Source = source ?? Record.Source, Command = command ?? Record.Command }));
        return [path, sidecar];
    }

    /// <summary>The sidecar: the record and the outcome.</summary>
    public string ToJson() => ToJson(Record);

    string ToJson(DreamRecord record) => JsonSerializer.Serialize(new
    {
        dream = record,
        stop = Stop,
        stepsDone = StepsDone,
        objectiveBefore = ObjectiveBefore,
        objectiveAfter = ObjectiveAfter,
    }, KitJson.Options);

    /// <inheritdoc/>
    public void Dispose() => Image.Dispose();
}
