using System.Text.Json;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>One photo dreamt at several layers (<see cref="Dream.CompareLayers"/>): shallow layers add strokes and
/// textures, deeper ones parts and objects.</summary>
public sealed class LayerComparison(Tensor photo, IReadOnlyList<(string Layer, DreamResult Dream)> dreams) : IDisposable
{
    /// <summary>The photo, [1,3,H,W].</summary>
    public Tensor Photo { get; } = photo;

    /// <summary>Each layer with its dream, in the order asked for (fewer when cancelled).</summary>
    public IReadOnlyList<(string Layer, DreamResult Dream)> Dreams { get; } = dreams;

    /// <summary>A contact sheet: the photo, then each layer's dream, captioned with the layer.</summary>
    public ContactSheet Sheet(int? columns = null)
    {
        var sheet = ContactSheet.Create(columns ?? Math.Min(Dreams.Count + 1, 5)).Add(Photo, "photo");
        foreach (var (layer, dream) in Dreams) sheet.Add(dream.Image, layer);
        return sheet;
    }

    /// <summary>Writes the sheet and a JSON sidecar with every dream's record, each atomically.</summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false, string? source = null, string? command = null)
    {
        string sidecar = RenderResult.SidecarPath(path);
        foreach (var file in new[] { path, sidecar })
            if (!overwrite && File.Exists(file)) throw new OutputExistsException(Path.GetFullPath(file));
        Sheet().Save(path);
        AtomicFile.WriteAllText(sidecar, JsonSerializer.Serialize(new
        {
            source,
            command,
            layers = Dreams.Select(d => new
            {
                layer = d.Layer,
                dream = d.Dream.Record,
                stop = d.Dream.Stop,
                objectiveBefore = d.Dream.ObjectiveBefore,
                objectiveAfter = d.Dream.ObjectiveAfter,
            }),
        }, KitJson.Options));
        return [path, sidecar];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Photo.Dispose();
        foreach (var (_, dream) in Dreams) dream.Dispose();
    }
}
