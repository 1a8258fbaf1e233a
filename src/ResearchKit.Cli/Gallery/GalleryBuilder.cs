using System.Net;
using System.Text;
using System.Text.Json;
using ResearchKit.Charts;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Cli.Gallery;

/// <summary>
/// Builds the gallery: a static HTML page of probes of one model, with its images beside it and Plotly charts
/// embedded (offline). Each section is kept in <c>sections/</c> with the settings that made it, so a rerun after an
/// interruption redoes only the sections that are missing or were made with other settings.
/// </summary>
sealed partial class GalleryBuilder(Model model, GallerySettings settings, string folder, bool force, CancellationToken cancellation)
{
    readonly string _images = Path.Combine(folder, "images");
    readonly string _sections = Path.Combine(folder, "sections");
    int _charts;

    public string Build()
    {
        Directory.CreateDirectory(_images);
        Directory.CreateDirectory(_sections);
        var body = new StringBuilder();
        body.AppendLine($"<p class=\"lead\">Probes of <b>{Html(model.Name)}</b> (input {model.InputHeight}x{model.InputWidth}, {Html(model.NormalizationDescription)}), " +
            $"seed {settings.Seed}, ResearchKit {RenderSettings.Version}. Every image has a JSON sidecar with the settings that made it.</p>");
        body.AppendLine(Section("activations", "Which channels fire for a photo", WhichChannelsFire));
        body.AppendLine(Section("dream", "DeepDream, block by block", LayerDream));
        body.AppendLine(Section("channels", "What the channels that fire respond to", ChannelGrid));
        body.AppendLine(Section("priors", "One unit under every prior", PriorsSideBySide));
        body.AppendLine(Section("dumbbell", "The dumbbell diagnostic", Dumbbell));
        var page = Page($"ResearchKit gallery: {model.Name}", body.ToString());
        var index = Path.Combine(folder, "index.html");
        AtomicFile.WriteAllText(index, page);
        return index;
    }

    /// <summary>Reuses a finished section made with the same settings; otherwise builds and stores it.</summary>
    string Section(string name, string title, Func<string> build)
    {
        cancellation.ThrowIfCancellationRequested();
        var key = JsonSerializer.Serialize(new { settings, model = model.Name, normalization = model.Normalization, kernels = model.Execution.Name, version = RenderSettings.Version });
        string fragmentPath = Path.Combine(_sections, name + ".html"), keyPath = Path.Combine(_sections, name + ".json");
        if (!force && File.Exists(fragmentPath) && File.Exists(keyPath) && File.ReadAllText(keyPath) == key)
        {
            Console.Error.WriteLine($"gallery: section '{name}' is up to date");
            return File.ReadAllText(fragmentPath);
        }
        Console.Error.WriteLine($"gallery: {title}");
        var html = $"<section id=\"{name}\"><h2>{Html(title)}</h2>\n{build()}\n</section>";
        AtomicFile.WriteAllText(fragmentPath, html);
        AtomicFile.WriteAllText(keyPath, key);
        return html;
    }

    string Photo => File.Exists(settings.Photo) ? settings.Photo : SampleImages.Path(settings.Photo);

    IReadOnlyList<string> Blocks => [.. Enumerable.Range(1, 9).Select(i => $"layer{i}").Where(model.Aliases.ContainsKey)];

    string WhichChannelsFire()
    {
        using var photo = ImageIO.Load(Photo, model.InputWidth, model.InputHeight);
        var html = new StringBuilder();
        html.AppendLine(ImageTag(SaveImage(photo, "photo.png"), "the photo", 224));
        html.AppendLine("<p>Mean activation of every channel of each block for this photo. The tallest bars are the channels " +
            "visualized below.</p>");
        foreach (var block in Blocks)
            html.AppendLine(Chart(Charts.Chart.ChannelBars(block, [.. model.ChannelMeans(photo, block).Select(v => (double)v)], settings.ChannelsPerBlock)));
        return html.ToString();
    }

    IReadOnlyList<int> TopChannels(string block)
    {
        using var photo = ImageIO.Load(Photo, model.InputWidth, model.InputHeight);
        return model.ChannelMeans(photo, block).Select((v, c) => (v, c)).OrderByDescending(p => p.v).Take(settings.ChannelsPerBlock).Select(p => p.c).ToList();
    }

    string ChannelGrid()
    {
        var html = new StringBuilder("<p>Each image maximizes one channel (Lucid's prior: Fourier parameterization, decorrelated colour, " +
            "robustness transforms). The caption gives the channel and the activation reached; the curves show the objective per step.</p>\n");
        var curves = new Dictionary<string, double[]>();
        int[] steps = [];
        var sheet = ContactSheet.Create(columns: Math.Max(1, settings.ChannelsPerBlock) * 2).CellSize(settings.Size, settings.Size);
        foreach (var block in Blocks)
            foreach (var channel in TopChannels(block))
            {
                cancellation.ThrowIfCancellationRequested();
                var objective = Objective.Channel(block, channel);
                var bar = new ProgressBar($"  {block}:{channel}", settings.Steps);
                using var result = Render.Plan(model, objective).Size(settings.Size).Steps(settings.Steps).Seed(settings.Seed)
                    .Every(1, f => bar.Report(f.Step)).Run(cancellation);
                result.Save(Path.Combine(_images, $"{block}-{channel}.png"), overwrite: true);
                sheet.Add(result.Images, $"{block}:{channel} {result.FinalObjective:0.#}");
                curves[$"{block}:{channel}"] = [.. result.History.Objective];
                steps = [.. result.History.Steps];
            }
        sheet.Save(Path.Combine(_images, "channels.png"));
        html.AppendLine(ImageTag("images/channels.png", "channel visualizations per block"));
        html.AppendLine(Chart(Charts.Chart.ObjectiveCurves("Objective per step", curves, steps)));
        return html.ToString();
    }

    string PriorsSideBySide()
    {
        var block = Blocks.Count >= 3 ? Blocks[2] : Blocks.Last();
        int channel = TopChannels(block)[0];
        var objective = Objective.Channel(block, channel);
        var presets = settings.Presets?.Select(PriorPresets.Get).ToList() ?? [.. PriorPresets.All];
        ProgressBar? bar = null;
        var rows = PriorComparison.Run(model, objective, presets, settings.Size, settings.Steps, settings.Seed,
            (preset, frame) =>
            {
                if (frame.Step == 1 || bar is null) bar = new ProgressBar($"  {preset.Name}", frame.TotalSteps);
                bar.Report(frame.Step);
            }, frameInterval: 1, cancellation);
        try
        {
            var sheet = ContactSheet.Create(columns: 5).CellSize(settings.Size, settings.Size);
            var table = new StringBuilder("<table><tr><th>preset</th><th>source</th><th>activation</th><th>total variation</th><th>high-frequency energy</th></tr>\n");
            var spectra = new Dictionary<string, double[]>();
            foreach (var row in rows)
            {
                row.Result.Save(Path.Combine(_images, $"prior-{row.Preset}.png"), overwrite: true);
                sheet.Add(row.Result.Images, row.Preset);
                table.AppendLine($"<tr><td>{Html(row.Preset)}</td><td>{Html(row.Paper)}</td><td>{row.Objective:0.###}</td><td>{row.TotalVariation:0.####}</td><td>{row.HighFrequencyEnergy:0.####}</td></tr>");
                spectra[row.Preset] = ImageStatistics.RadialPowerSpectrum(row.Result.Images);
            }
            sheet.Save(Path.Combine(_images, "priors.png"));
            return $"<p>{Html(objective.Description)} rendered with the same seed under each prior preset. Activation: the objective on " +
                "the final image; total variation and high-frequency energy: lower is smoother (natural photos have little power at " +
                "high frequencies).</p>\n" + ImageTag("images/priors.png", "priors side by side") + table + "</table>\n" +
                Chart(Charts.Chart.RadialSpectra(spectra)) +
                Chart(Charts.Chart.Bars("Activation reached per prior", [.. rows.Select(r => r.Preset)], [.. rows.Select(r => r.Objective)], "activation"));
        }
        finally
        {
            foreach (var row in rows) row.Result.Dispose();
        }
    }

    string SaveImage(Tensor image, string name)
    {
        ImageIO.Save(image, Path.Combine(_images, name));
        return "images/" + name;
    }

    string Chart(Figure figure) => figure.ToHtmlFragment($"chart-{++_charts}");

    static string ImageTag(string src, string alt, int? width = null) =>
        $"<figure><img src=\"{Html(src)}\" alt=\"{Html(alt)}\"{(width is { } w ? $" width=\"{w}\"" : "")}><figcaption>{Html(alt)}</figcaption></figure>";

    static string Html(string text) => WebUtility.HtmlEncode(text);

    static string Page(string title, string body) => ChartPage.Build(title,
        "<style>figure{display:inline-block;margin:0 1em 1em 0} img{max-width:100%} table{border-collapse:collapse} " +
        "td,th{border:1px solid #ccc;padding:.2em .5em;font-size:90%} .verdict{font-size:120%;font-weight:bold}</style>\n" + body);
}
