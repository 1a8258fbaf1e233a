using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>One photo dreamt at several layers (<see cref="Dream.CompareLayers"/>): shallow layers add strokes and
/// textures, deeper ones parts and objects.</summary>
public sealed class LayerComparison(Tensor photo, IReadOnlyList<(string Layer, DreamResult Dream)> dreams, Provenance provenance) : IDisposable
{
    /// <summary>The photo, [1,3,H,W].</summary>
    public Tensor Photo { get; } = photo;

    /// <summary>Each layer with its dream, in the order asked for (fewer when cancelled).</summary>
    public IReadOnlyList<(string Layer, DreamResult Dream)> Dreams { get; } = dreams;

    /// <summary>Where the dreams came from: model, kernels, device, seed, versions.</summary>
    public Provenance Provenance { get; } = provenance;

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
        Outputs.EnsureWritable(overwrite, path, Sidecar.PathFor(path));
        Sheet().Save(path);
        var sidecar = Sidecar.Write(path, Provenance with { Command = command }, new
        {
            source,
            layers = Dreams.Select(d => new { layer = d.Layer, dream = d.Dream.Record, outcome = d.Dream.Outcome }),
        });
        return [path, sidecar];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Photo.Dispose();
        foreach (var (_, dream) in Dreams) dream.Dispose();
    }
}
