using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Reports;

/// <summary>Where a gallery stands: the section being built and the task within it.</summary>
/// <param name="Section">The section's id (<c>activations</c>, <c>dream</c>, <c>channels</c>, <c>priors</c>, <c>dumbbell</c>).</param>
/// <param name="Task">What is running, e.g. <c>layer3:7</c>, or <c>up to date</c> for a section kept from an earlier run.</param>
/// <param name="Done">Steps (or percent) of the task done.</param>
/// <param name="Total">Steps (or 100) in the task.</param>
public sealed record GalleryProgress(string Section, string Task, int Done, int Total);

/// <summary>
/// The gallery: a static HTML page of probes of one model — which channels fire for a photo, the photo dreamt block by
/// block, what those channels respond to, one unit under every prior, and the dumbbell diagnostic — with its images
/// beside it (each with its JSON sidecar) and charts. Each section is kept in <c>sections/</c> with the settings that
/// made it, so a rerun after an interruption redoes only the sections that are missing or were made differently.
/// <code>Gallery.Build(model, GallerySettings.Quick(seed: 0), "gallery", charts);</code>
/// </summary>
public sealed partial class Gallery
{
    readonly Model _model;
    readonly GallerySettings _settings;
    readonly string _images, _sections;
    readonly IReportCharts _charts;
    readonly bool _overwrite;
    readonly IProgress<GalleryProgress>? _progress;
    readonly CancellationToken _cancellation;

    Gallery(Model model, GallerySettings settings, string folder, IReportCharts charts, bool overwrite, IProgress<GalleryProgress>? progress,
        CancellationToken cancellation)
    {
        (_model, _settings, _charts, _overwrite, _progress, _cancellation) = (model, settings, charts, overwrite, progress, cancellation);
        _images = Path.Combine(folder, "images");
        _sections = Path.Combine(folder, "sections");
    }

    /// <summary>Builds the gallery in <paramref name="folder"/> and returns the path of its <c>index.html</c>.</summary>
    /// <param name="overwrite">Rebuild every section, even those kept from an earlier run with the same settings.</param>
    /// <exception cref="OperationCanceledException">Cancelled; finished sections stay in <c>sections/</c> for the next run.</exception>
    public static string Build(Model model, GallerySettings settings, string folder, IReportCharts charts, bool overwrite = false,
        IProgress<GalleryProgress>? progress = null, CancellationToken cancellation = default)
    {
        var gallery = new Gallery(model, settings, folder, charts, overwrite, progress, cancellation);
        Directory.CreateDirectory(gallery._images);
        Directory.CreateDirectory(gallery._sections);
        var page = new HtmlPage($"ResearchKit gallery: {model.Name}").Head(charts.Script).Lead(
            $"Probes of <b>{HtmlPage.Text(model.Name)}</b> (input {model.InputWidth}x{model.InputHeight}, {HtmlPage.Text(model.NormalizationDescription)}, " +
            $"{HtmlPage.Text(model.Execution.Name)} kernels), seed {settings.Seed}, ResearchKit {HtmlPage.Text(Provenance.Version)}. " +
            "Every image links the JSON sidecar with the settings that made it; renders that failed or went nowhere are marked.");
        foreach (var (id, title, build) in new (string, string, Func<string>)[]
        {
            ("activations", "Which channels fire for a photo", gallery.WhichChannelsFire),
            ("dream", "DeepDream, block by block", gallery.LayerDream),
            ("channels", "What the channels that fire respond to", gallery.ChannelGrid),
            ("priors", "One unit under every prior", gallery.PriorsSideBySide),
            ("dumbbell", "The dumbbell diagnostic", gallery.Dumbbell),
        })
            page.Section(id, title, gallery.Section(id, build));
        var index = Path.Combine(folder, "index.html");
        AtomicFile.WriteAllText(index, page.Build());
        return index;
    }

    /// <summary>Reuses a finished section made with the same settings (compared as <see cref="JsonDifference"/> does); otherwise builds and keeps it.</summary>
    string Section(string id, Func<string> build)
    {
        _cancellation.ThrowIfCancellationRequested();
        var key = new JsonObject
        {
            ["settings"] = KitJson.ToNode(_settings),
            ["model"] = _model.Name,
            ["normalization"] = _model.NormalizationDescription,
            ["kernels"] = _model.Execution.Name,
            ["version"] = Provenance.Version,
        };
        string fragmentPath = Path.Combine(_sections, id + ".html"), keyPath = Path.Combine(_sections, id + ".json");
        if (!_overwrite && File.Exists(fragmentPath) && File.Exists(keyPath) && JsonDifference.Describe(ReadKey(keyPath), key) is null)
        {
            _progress?.Report(new GalleryProgress(id, "up to date", 1, 1));
            return File.ReadAllText(fragmentPath);
        }
        var html = build();
        AtomicFile.WriteAllText(fragmentPath, html);
        AtomicFile.WriteAllText(keyPath, key.ToJsonString(KitJson.Options));
        return html;
    }

    static JsonNode? ReadKey(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    string Photo => File.Exists(_settings.Photo) ? _settings.Photo : SampleImages.Path(_settings.Photo);

    IReadOnlyList<string> Blocks => _model.NumberedLayers() is { Count: > 0 } blocks ? blocks
        : throw new InvalidSettingException($"the gallery walks the model's layer1, layer2, ... blocks, and '{_model.Name}' has none");

    /// <summary>Reports a task's render steps as gallery progress.</summary>
    IProgress<RenderProgress> Steps(string section, string task) =>
        new SynchronousProgress<RenderProgress>(p => _progress?.Report(new GalleryProgress(section, task, p.Step, p.TotalSteps)));

    string WhichChannelsFire()
    {
        using var photo = ImageIO.Load(Photo, _model.InputWidth, _model.InputHeight);
        var html = new StringBuilder();
        html.AppendLine(HtmlPage.Grid([HtmlPage.Figure(SaveImage(photo, "photo.png"), $"the photo ({Path.GetFileName(Photo)})")], minWidth: 224));
        html.AppendLine(HtmlPage.Paragraph("Mean activation of every channel of each block for this photo. The highlighted bars are the channels " +
            "visualized below."));
        foreach (var block in Blocks)
            html.AppendLine(_charts.ChannelBars(block, [.. _model.ChannelMeans(photo, block).Select(v => (double)v)], _settings.ChannelsPerBlock));
        return html.ToString();
    }

    IReadOnlyList<int> TopChannels(string block)
    {
        using var photo = ImageIO.Load(Photo, _model.InputWidth, _model.InputHeight);
        return _model.ChannelMeans(photo, block).Select((v, c) => (v, c)).OrderByDescending(p => p.v).Take(_settings.ChannelsPerBlock).Select(p => p.c).ToList();
    }

    string ChannelGrid()
    {
        const string section = "channels";
        var html = new StringBuilder(HtmlPage.Paragraph("Each image maximizes one channel (Lucid's prior: Fourier parameterization, decorrelated colour, " +
            "robustness transforms). The caption gives the channel and the activation reached; the curves show the objective per step."));
        var curves = new Dictionary<string, double[]>();
        int[] steps = [];
        var figures = new List<string>();
        foreach (var block in Blocks)
            foreach (var channel in TopChannels(block))
            {
                _cancellation.ThrowIfCancellationRequested();
                string name = $"{block}-{channel}.png";
                using var result = Render.Plan(_model, Objective.Channel(block, channel)).Size(_settings.Size).Steps(_settings.Steps).Seed(_settings.Seed)
                    .ReportTo(Steps(section, $"{block}:{channel}")).Run(_cancellation);
                result.Save(Path.Combine(_images, name), overwrite: true);
                figures.Add(Figure(name, $"{block} channel {channel}: activation {F(result.FinalObjective)}", result));
                curves[$"{block}:{channel}"] = [.. result.History.Objective];
                steps = [.. result.History.Steps];
            }
        html.AppendLine(HtmlPage.Grid(figures, minWidth: Math.Max(120, _settings.Size)));
        html.AppendLine(_charts.Curves("Objective per step", curves, steps));
        return html.ToString();
    }

    string PriorsSideBySide()
    {
        const string section = "priors";
        var block = Blocks.Count >= 3 ? Blocks[2] : Blocks[^1];
        var objective = Objective.Channel(block, TopChannels(block)[0]);
        var presets = _settings.Presets?.Select(PriorPresets.Get).ToList() ?? [.. PriorPresets.All];
        var plan = Render.Plan(_model, objective).Size(_settings.Size).Seed(_settings.Seed).ReportTo(Steps(section, objective.Description));
        using var comparison = PriorComparison.Run(plan, presets, _settings.Steps, cancellation: _cancellation);
        _cancellation.ThrowIfCancellationRequested();
        var figures = new List<string>();
        var spectra = new Dictionary<string, double[]>();
        foreach (var row in comparison.Rows)
        {
            string name = $"prior-{row.Preset}.png";
            row.Result.Save(Path.Combine(_images, name), overwrite: true);
            figures.Add(Figure(name, $"{row.Preset}: activation {F(row.Objective)}", row.Result));
            spectra[row.Preset] = ImageStatistics.RadialPowerSpectrum(row.Result.Images);
        }
        var table = HtmlPage.Table(["preset", "source", "activation", "total variation", "high-frequency energy"],
            comparison.Rows.Select(r => (IReadOnlyList<string>)[r.Preset, r.Paper, F(r.Objective), F(r.TotalVariation, "0.####"), F(r.HighFrequencyEnergy, "0.####")]));
        return HtmlPage.Paragraph($"{objective.Description} rendered with the same seed under each prior preset. Activation: the objective on " +
                "the final image; total variation and high-frequency energy: lower is smoother (natural photos have little power at " +
                "high frequencies).") +
            HtmlPage.Grid(figures, minWidth: Math.Max(120, _settings.Size)) + table +
            _charts.Spectra(spectra) +
            _charts.Bars("Activation reached per prior", [.. comparison.Rows.Select(r => r.Preset)], [.. comparison.Rows.Select(r => r.Objective)], "activation");
    }

    /// <summary>A render's image in the grid: captioned, its sidecar linked, flagged when it did not complete.</summary>
    static string Figure(string name, string caption, RenderResult result) =>
        HtmlPage.Figure("images/" + name, caption, "images/" + Sidecar.PathFor(name), RenderFlag.For(result.Stop, result.StepsDone));

    string SaveImage(Tensor image, string name)
    {
        ImageIO.Save(image, Path.Combine(_images, name));
        return "images/" + name;
    }

    static string F(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);

}
