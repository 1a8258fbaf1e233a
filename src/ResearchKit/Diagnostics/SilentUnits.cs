using System.Globalization;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>One silent channel rendered under each redirect setting, against the photos' best.</summary>
/// <param name="Channel">Channel index.</param>
/// <param name="BestPhoto">The channel's largest mean activation over the photos.</param>
/// <param name="BestPhotoName">Which photo that was.</param>
/// <param name="Renders">One row per redirect setting, in the order asked.</param>
public sealed record SilentChannel(int Channel, double BestPhoto, string BestPhotoName, PriorComparison Renders);

/// <summary>
/// Units that are silent at the start of a render: channels of a layer exactly 0 on a grey image, which an ordinary
/// ReLU gradient cannot wake (see <see cref="ReluGradient"/>). <see cref="Study"/> renders a sample of them with the
/// redirected gradient off, for the first steps and throughout, and measures each image against the photos' best and
/// by its naturalness, to show what the redirect buys and which setting gives the better images.
/// <code>using var study = SilentUnits.Study(Render.Plan(model, "layer4").Size(128).Steps(128), "layer4", count: 16, photos);</code>
/// </summary>
public sealed class SilentUnits : IDisposable
{
    SilentUnits(string layer, int silentCount, int channelCount, IReadOnlyList<SilentChannel> channels, Provenance provenance) =>
        (Layer, SilentCount, ChannelCount, Channels, Provenance) = (layer, silentCount, channelCount, channels, provenance);

    /// <summary>The layer studied.</summary>
    public string Layer { get; }
    /// <summary>How many of its channels are exactly 0 on grey at the render's size.</summary>
    public int SilentCount { get; }
    /// <summary>Its channel count.</summary>
    public int ChannelCount { get; }
    /// <summary>The channels rendered.</summary>
    public IReadOnlyList<SilentChannel> Channels { get; }
    /// <summary>Where the renders came from.</summary>
    public Provenance Provenance { get; }

    /// <summary>The redirect settings compared by default: off, Lucid's first 16 steps, throughout.</summary>
    public static IReadOnlyList<ReluRedirect> Settings { get; } = [ReluRedirect.Off, ReluRedirect.Lucid, ReluRedirect.Throughout];

    /// <summary>The channels of <paramref name="layer"/> whose activation is exactly 0 everywhere on a mid-grey image of the given size.</summary>
    public static IReadOnlyList<int> OnGrey(Model model, string layer, int height, int width) => Silent(GreyMeans(model, layer, height, width));

    static float[] GreyMeans(Model model, string layer, int height, int width)
    {
        using var grey = full([1, model.InputChannels, height, width], 0.5f);
        return model.ChannelMeans(grey, layer);
    }

    static IReadOnlyList<int> Silent(float[] means) => [.. Enumerable.Range(0, means.Length).Where(c => means[c] == 0)];

    /// <summary>
    /// Renders <paramref name="count"/> channels of <paramref name="layer"/> that are silent on grey (a seeded sample,
    /// seed from <paramref name="plan"/>) with <paramref name="plan"/>'s preset, size, steps and seed under each redirect
    /// setting, and the photos' best activation of each.
    /// </summary>
    /// <param name="photos">Images ([1,C,H,W] in [0,1]) by name; measured at their own size.</param>
    /// <exception cref="InvalidSettingException">The layer has no channel silent on grey at this size.</exception>
    public static SilentUnits Study(RenderPlan plan, string layer, int count, IReadOnlyDictionary<string, Tensor> photos,
        IReadOnlyList<ReluRedirect>? settings = null, CancellationToken cancellation = default)
    {
        var means = GreyMeans(plan.Model, layer, plan.Height, plan.Width);
        var silent = Silent(means);
        int channelCount = means.Length;
        if (silent.Count == 0)
            throw new InvalidSettingException($"no channel of {layer} is silent on a grey {plan.Width}x{plan.Height} image; nothing to study", nameof(layer), layer);
        var pick = new Random(plan.SeedValue);
        var sample = silent.OrderBy(_ => pick.Next()).Take(count).Order().ToList();
        var variants = (settings ?? Settings).Select(r => new PlanVariant($"redirect {r}", $"redirected ReLU gradient {r}", p => p.RedirectRelu(r))).ToList();
        int stepsPerChannel = variants.Sum(v => v.Apply(plan).StepCount);
        var channels = new List<SilentChannel>();
        foreach (var (channel, index) in sample.Select((c, i) => (c, i)))
        {
            if (cancellation.IsCancellationRequested) break;
            var objective = Objective.Channel(layer, channel);
            var (bestName, best) = photos.Select(p => (p.Key, objective.Measure(plan.Model, p.Value)[0])).MaxBy(p => p.Item2);
            var stage = new RenderStage($"{layer}:{channel} ({index + 1}/{sample.Count})", index * stepsPerChannel, sample.Count * stepsPerChannel);
            var renders = PriorComparison.Run(plan with { Objective = objective, Stage = stage }, variants, cancellation: cancellation);
            channels.Add(new SilentChannel(channel, best, bestName, renders));
        }
        return new SilentUnits(layer, silent.Count, channelCount, channels, Provenance.Of(plan.Model, plan.SeedValue, plan.Command));
    }

    /// <summary>Per setting: renders that beat the best photo, the median ratio to it, and the median naturalness figures.</summary>
    public IReadOnlyList<(string Setting, int PastBestPhoto, double MedianRatio, double MedianTotalVariation, double MedianHighFrequency, int Dead)> Summary() =>
        [.. Channels.SelectMany(c => c.Renders.Rows.Select(r => (c, r))).GroupBy(p => p.r.Preset).Select(g => (
            g.Key,
            g.Count(p => p.r.Objective > p.c.BestPhoto),
            Median(g.Select(p => p.r.Objective / Math.Max(p.c.BestPhoto, 1e-9))),
            Median(g.Select(p => p.r.TotalVariation)),
            Median(g.Select(p => p.r.HighFrequencyEnergy)),
            g.Count(p => p.r.Result.Stop == RenderStop.Dead)))];

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The per-channel table and the summary, as Markdown.</summary>
    public string ToMarkdown()
    {
        var names = Channels.Count > 0 ? Channels[0].Renders.Rows.Select(r => r.Preset).ToList() : [];
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{SilentCount} of {ChannelCount} channels of {Layer} are exactly 0 on grey; {Channels.Count} rendered.\n\n");
        text.Append("| channel | best photo | ").AppendJoin(" | ", names).Append(" |\n|---:|---:|").Append(string.Concat(names.Select(_ => "---:|"))).Append('\n');
        foreach (var c in Channels)
            text.Append(CultureInfo.InvariantCulture, $"| {c.Channel} | {c.BestPhoto:0.##} ({c.BestPhotoName}) | ")
                .AppendJoin(" | ", c.Renders.Rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Objective:0.##}{(r.Result.Stop == RenderStop.Dead ? " (dead)" : "")}")))
                .Append(" |\n");
        text.Append("\n| setting | past the best photo | median ratio to it | median total variation | median high-frequency energy | dead |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var s in Summary())
            text.Append(CultureInfo.InvariantCulture,
                $"| {s.Setting} | {s.PastBestPhoto}/{Channels.Count} | {s.MedianRatio:0.#}× | {s.MedianTotalVariation:0.###} | {s.MedianHighFrequency:0.###} | {s.Dead} |\n");
        return text.ToString();
    }

    /// <summary>
    /// Writes a contact sheet (one row per channel, one column per setting) to <paramref name="path"/>, the tables
    /// beside it (<c>.md</c>) and a <see cref="Sidecar"/> (<c>.json</c>) with every measurement and render settings, each atomically.
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false)
    {
        string table = Path.ChangeExtension(path, ".md");
        Outputs.EnsureWritable(overwrite, path, table, Sidecar.PathFor(path));
        int columns = Channels.Count > 0 ? Channels[0].Renders.Rows.Count : 1;
        var sheet = ContactSheet.Create(columns).Title($"{Provenance.Model} {Layer}: channels silent on grey");
        foreach (var c in Channels)
            foreach (var r in c.Renders.Rows)
                sheet.Add(r.Result.Images, string.Create(CultureInfo.InvariantCulture, $"{c.Channel} {r.Preset[9..]} {r.Objective:0.#}"));
        sheet.Save(path);
        AtomicFile.WriteAllText(table, $"# {Provenance.Model}: silent channels of {Layer}\n\n{ToMarkdown()}");
        var sidecar = Sidecar.Write(path, Provenance, new
        {
            layer = Layer,
            silentOnGrey = SilentCount,
            channelCount = ChannelCount,
            channels = Channels.Select(c => new
            {
                channel = c.Channel,
                bestPhoto = c.BestPhoto,
                bestPhotoName = c.BestPhotoName,
                renders = c.Renders.RowRecords(),
            }),
        });
        return [path, table, sidecar];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var c in Channels) c.Renders.Dispose();
    }
}
