using System.Text.Json;
using ResearchKit.Attribution;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using ResearchKit.Reports;
using SixLabors.ImageSharp;
using static TorchSharp.torch;

namespace ResearchKit.Atlas;

/// <summary>Progress of an atlas: <paramref name="Done"/> of <paramref name="Total"/> channels of the shard are on disk.</summary>
/// <param name="Channel">The channel just finished.</param>
/// <param name="FinalActivation">Its activation.</param>
/// <param name="Skipped">It was already on disk from an earlier run.</param>
public sealed record AtlasProgress(int Done, int Total, int Channel, double FinalActivation, bool Skipped);

/// <summary>
/// A layer atlas: one feature visualization per channel of a layer, on a browsable page. Runs split into shards
/// (<see cref="Shard"/>) and resume: every channel's files are written atomically as soon as its batch finishes.
/// </summary>
public static class LayerAtlas
{
    /// <summary>Dataset examples kept per channel.</summary>
    public const int ExamplesPerChannel = 4;

    /// <summary><c>channel-0007.png</c>.</summary>
    public static string ImageName(int channel) => $"channel-{channel:D4}.png";

    /// <summary><c>channel-0007.json</c>.</summary>
    public static string SidecarName(int channel) => $"channel-{channel:D4}.json";

    /// <summary>
    /// Renders the channels of <paramref name="shard"/> into <paramref name="folder"/>, skipping channels whose image
    /// and sidecar are already there and match the settings, then writes <c>manifest.json</c> and <c>index.html</c>.
    /// A batch's seed is the base seed plus its first channel, so sharded and unsharded runs write the same bytes.
    /// Renders compute where the model is (<see cref="Model.To"/>); each channel's sidecar records the device.
    /// </summary>
    /// <param name="charts">Draws the page's curves; without it the page lists the final values only.</param>
    /// <exception cref="OperationCanceledException">Cancelled; finished channels stay on disk.</exception>
    public static AtlasManifest Render(Model model, AtlasSettings settings, Shard shard, string folder,
        IProgress<AtlasProgress>? progress = null, CancellationToken cancellation = default, IReportCharts? charts = null)
    {
        settings = settings.Validated();
        model.CheckChannel(settings.Layer, settings.Channels[^1]);
        Directory.CreateDirectory(folder);
        var groups = settings.Groups().Where(g => shard.Owns(g[0], settings.Batch)).ToList();
        int total = groups.Sum(g => g.Count), done = 0;
        var sidecars = new Dictionary<int, AtlasChannelSidecar>();

        foreach (var group in groups)
        {
            var existing = group.ToDictionary(c => c, c => Completed(folder, model.Name, settings, c));
            foreach (var (channel, sidecar) in existing.Where(e => e.Value is not null))
            {
                sidecars[channel] = sidecar!;
                progress?.Report(new AtlasProgress(++done, total, channel, sidecar!.FinalActivation, Skipped: true));
            }
            if (existing.Values.All(s => s is not null)) continue;

            // The whole batch renders again so that the missing channels get exactly the bytes they would have had.
            foreach (var (channel, sidecar) in RenderGroup(model, settings, group, folder, c => existing[c] is null, cancellation))
            {
                sidecars[channel] = sidecar;
                progress?.Report(new AtlasProgress(++done, total, channel, sidecar.FinalActivation, Skipped: false));
            }
        }

        var owned = groups.SelectMany(g => g).Order().ToList();
        var examples = settings.Images is { } images ? FindExamples(model, settings, owned, images, folder, cancellation) : [];
        var manifest = new AtlasManifest(model.Name, settings, [shard.ToString()], [.. owned.Select(c => Entry(c, sidecars[c], examples))]);
        Publish(manifest, folder, charts);
        return manifest;
    }

    /// <summary>
    /// Merges the shard folders into <paramref name="output"/>: copies every channel's files and writes one manifest
    /// and page. A channel held by several folders is taken from the first.
    /// </summary>
    /// <exception cref="InvalidDataException">A folder is not an atlas, or the folders were rendered with different
    /// settings or models; the message names the folders and what differs.</exception>
    public static AtlasManifest Merge(IEnumerable<string> folders, string output, IReportCharts? charts = null)
    {
        var parts = folders.Select(f => (Folder: f, Manifest: AtlasManifest.Read(f))).ToList();
        if (parts.Count == 0) throw new InvalidSettingException("merge needs at least one atlas folder");
        var (firstFolder, first) = parts[0];
        foreach (var (folder, manifest) in parts.Skip(1))
        {
            var difference = manifest.Model != first.Model ? $"model: {first.Model} → {manifest.Model}" : first.Settings.Difference(manifest.Settings);
            if (difference is not null)
                throw new InvalidFileException($"cannot merge {firstFolder} and {folder}: they were rendered with different settings ({difference})");
        }
        Directory.CreateDirectory(output);
        var channels = new SortedDictionary<int, AtlasChannel>();
        foreach (var (folder, manifest) in parts)
            foreach (var entry in manifest.Channels.Where(e => !channels.ContainsKey(e.Channel)))
            {
                foreach (var file in entry.Files)
                {
                    string source = Path.Combine(folder, file), target = Path.Combine(output, file);
                    if (Path.GetFullPath(source) != Path.GetFullPath(target)) AtomicFile.WriteAllBytes(target, File.ReadAllBytes(source));
                }
                channels[entry.Channel] = entry;
            }
        var shards = parts.SelectMany(p => p.Manifest.Shards).Distinct().Order().ToList();
        var merged = new AtlasManifest(first.Model, first.Settings, shards, [.. channels.Values]);
        Publish(merged, output, charts);
        return merged;
    }

    static void Publish(AtlasManifest manifest, string folder, IReportCharts? charts)
    {
        manifest.Write(folder);
        var curves = manifest.Channels.ToDictionary(c => c.Channel,
            c => AtlasChannelSidecar.TryRead(Path.Combine(folder, c.Sidecar))?.ObjectiveCurve ?? []);
        AtomicFile.WriteAllText(Path.Combine(folder, "index.html"), AtlasPage.Build(manifest, curves, charts));
    }

    static AtlasChannel Entry(int channel, AtlasChannelSidecar sidecar, IReadOnlyDictionary<int, (double Max, List<AtlasExample> Top)> examples) =>
        examples.TryGetValue(channel, out var found)
            ? new AtlasChannel(channel, ImageName(channel), SidecarName(channel), sidecar.FinalActivation, found.Max, found.Top, sidecar.Stop)
            : new AtlasChannel(channel, ImageName(channel), SidecarName(channel), sidecar.FinalActivation, null, [], sidecar.Stop);

    /// <summary>The channel's sidecar if its image and sidecar are on disk, readable and from these settings.</summary>
    static AtlasChannelSidecar? Completed(string folder, string model, AtlasSettings settings, int channel)
    {
        var sidecar = AtlasChannelSidecar.TryRead(Path.Combine(folder, SidecarName(channel)));
        if (sidecar is null || sidecar.Channel != channel || sidecar.Model != model || sidecar.Settings.Difference(settings) is not null) return null;
        try
        {
            var info = Image.Identify(Path.Combine(folder, ImageName(channel)));
            return info is not null && info.Width == settings.Width && info.Height == settings.Height ? sidecar : null;
        }
        catch (Exception e) when (e is IOException or UnknownImageFormatException or InvalidImageContentException)
        {
            return null;
        }
    }

    /// <summary>Renders one batch and writes the channels <paramref name="write"/> picks; returns their sidecars.</summary>
    static IEnumerable<(int Channel, AtlasChannelSidecar Sidecar)> RenderGroup(Model model, AtlasSettings settings, IReadOnlyList<int> group,
        string folder, Func<int, bool> write, CancellationToken cancellation)
    {
        var objective = group.Select((c, i) => Objective.Channel(settings.Layer, c, batch: i)).Aggregate((a, b) => a + b);
        int seed = settings.Seed + group[0];
        var plan = Rendering.Render.Plan(model, objective).WithPreset(settings.Preset).Size(settings.Height, settings.Width).Batch(group.Count).Seed(seed);
        if (settings.Steps is { } steps) plan = plan.Steps(steps);
        using var result = plan.Run(cancellation);
        if (result.Stop == RenderStop.Cancelled) throw new OperationCanceledException(cancellation);

        double[] activations;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var map = model.Run(result.Images, settings.Layer);
            activations = [.. group.Select((c, i) => (double)map[i, c].mean().item<float>())];
        }
        var results = new List<(int, AtlasChannelSidecar)>();
        for (int i = 0; i < group.Count; i++)
        {
            int channel = group[i];
            // A term is zero on the other batch items, so the logged batch mean is the channel's value over the batch size.
            var curve = result.History.Terms[objective.Terms[i].Term.Description].Select(v => v * group.Count).ToList();
            var sidecar = new AtlasChannelSidecar(model.Name, settings, channel, group, seed, result.StopOf(i), activations[i], curve, result.Settings);
            if (!write(channel)) continue;
            AtomicFile.WriteAllBytes(Path.Combine(folder, ImageName(channel)), ImageIO.EncodePng(result.Image(i)));
            AtomicFile.WriteAllText(Path.Combine(folder, SidecarName(channel)), JsonSerializer.Serialize(sidecar, KitJson.Options));
            results.Add((channel, sidecar));
        }
        return results;
    }

    /// <summary>
    /// The channels' dataset examples (<see cref="DatasetExamples.FindAll"/>) written beside their images, and per channel
    /// the largest mean activation over the photos, the figure its visualization is compared with.
    /// </summary>
    static Dictionary<int, (double Max, List<AtlasExample> Top)> FindExamples(Model model, AtlasSettings settings, IReadOnlyList<int> channels,
        string images, string folder, CancellationToken cancellation)
    {
        var found = DatasetExamples.FindAll(model, ImageIO.ImagesIn(images), settings.Layer, channels, ExamplesPerChannel, cancellation: cancellation);
        var result = new Dictionary<int, (double, List<AtlasExample>)>();
        foreach (var (channel, examples) in found)
        {
            using var _ = examples;
            var written = new List<AtlasExample>();
            foreach (var (example, k) in examples.Examples.Select((e, k) => (e, k)))
            {
                string name = $"channel-{channel:D4}-example-{k}.png";
                AtomicFile.WriteAllBytes(Path.Combine(folder, name), ImageIO.EncodePng(example.Patch));
                written.Add(new AtlasExample(Path.GetFileName(example.File), example.MeanActivation, name));
            }
            result[channel] = (examples.BestMeanActivation, written);
        }
        return result;
    }
}
