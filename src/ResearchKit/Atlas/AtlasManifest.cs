using System.Text.Json;
using ResearchKit.IO;
using ResearchKit.Rendering;

namespace ResearchKit.Atlas;

/// <summary>One dataset example of a channel: a patch of a photo that drives it hard.</summary>
/// <param name="Source">The photo.</param>
/// <param name="Activation">The channel's mean activation over the photo (the statistic the renders maximize); the patch is cut around its strongest position.</param>
/// <param name="Image">The patch's file name in the atlas folder.</param>
public sealed record AtlasExample(string Source, double Activation, string Image);

/// <summary>One channel of an atlas: its files and how strongly its image drives it.</summary>
/// <param name="Channel">Channel index.</param>
/// <param name="Image">PNG file name in the atlas folder.</param>
/// <param name="Sidecar">JSON file name (settings, final activation, objective curve).</param>
/// <param name="FinalActivation">Mean activation of the channel on the final image.</param>
/// <param name="DatasetMax">The largest mean activation over the photos, when there were photos.</param>
/// <param name="Examples">Patches of the photos that drive the channel hardest, strongest first.</param>
/// <param name="Stop">How its render ended (the page marks channels whose render did not complete).</param>
public sealed record AtlasChannel(int Channel, string Image, string Sidecar, double FinalActivation, double? DatasetMax,
    IReadOnlyList<AtlasExample> Examples, RenderStop Stop = RenderStop.Completed)
{
    /// <summary>All files of this channel in the atlas folder.</summary>
    public IEnumerable<string> Files => [Image, Sidecar, .. Examples.Select(e => e.Image)];
}

/// <summary>The contents of an atlas folder (<c>manifest.json</c>).</summary>
/// <param name="Model">Model name.</param>
/// <param name="Settings">What was rendered.</param>
/// <param name="Shards">The shards whose channels the folder holds, e.g. <c>["0/8"]</c>, or all of them after a merge.</param>
/// <param name="Channels">The channels present, ascending.</param>
public sealed record AtlasManifest(string Model, AtlasSettings Settings, IReadOnlyList<string> Shards, IReadOnlyList<AtlasChannel> Channels)
{
    /// <summary>File name of the manifest in an atlas folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Channels of the settings that the folder does not hold.</summary>
    public IReadOnlyList<int> Missing => [.. Settings.Channels.Except(Channels.Select(c => c.Channel))];

    /// <summary>Reads <c>manifest.json</c> of <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">The folder has no manifest or it does not parse.</exception>
    public static AtlasManifest Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new InvalidFileException($"{folder}: no {FileName}; is it an atlas folder whose run finished?");
        try
        {
            return JsonSerializer.Deserialize<AtlasManifest>(File.ReadAllText(path), KitJson.Options)
                ?? throw new InvalidFileException($"{path}: empty manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidFileException($"{path}: not an atlas manifest ({e.Message})", e);
        }
    }

    /// <summary>Writes <c>manifest.json</c> into <paramref name="folder"/> atomically.</summary>
    public void Write(string folder) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, KitJson.Options));
}

/// <summary>The JSON sidecar of one channel's image.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Settings">The atlas settings it was rendered with.</param>
/// <param name="Channel">Channel index.</param>
/// <param name="BatchChannels">The channels rendered together with it, in batch order.</param>
/// <param name="Seed">The seed of that render.</param>
/// <param name="Stop">Why the render ended.</param>
/// <param name="FinalActivation">Mean activation of the channel on the final image.</param>
/// <param name="ObjectiveCurve">The channel's objective at each step.</param>
/// <param name="Render">The full render settings, when written by a render.</param>
public sealed record AtlasChannelSidecar(string Model, AtlasSettings Settings, int Channel, IReadOnlyList<int> BatchChannels, int Seed,
    RenderStop Stop, double FinalActivation, IReadOnlyList<double> ObjectiveCurve, RenderSettings? Render = null)
{
    /// <summary>Reads a sidecar; null when it is missing or does not parse.</summary>
    public static AtlasChannelSidecar? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            // The render settings hold polymorphic priors; they are for people, so resuming leaves them out.
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                ? JsonSerializer.Deserialize<AtlasChannelSidecar>(JsonSerializer.Serialize(
                    root.EnumerateObject().Where(p => p.Name != "render").ToDictionary(p => p.Name, p => p.Value)), KitJson.Options)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
