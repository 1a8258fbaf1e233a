using System.CommandLine;
using ResearchKit.Atlas;
using ResearchKit.Cli.Options;
using ResearchKit.Charts;
using ResearchKit.Priors;

namespace ResearchKit.Cli.Commands;

/// <summary>
/// <c>researchkit atlas --layer L --out atlas/</c>: one visualization per channel of a layer, sharded and resumable;
/// <c>researchkit atlas merge atlas-*/ --out atlas/</c> joins the shards.
/// </summary>
static class AtlasCommand
{
    public static Command Create()
    {
        var channels = new Option<string?>("--channels") { Description = "Channels, e.g. 0-255 or 0,5,9-12 (default: every channel of the layer)" };
        var batch = new Option<int>("--batch") { Description = "Channels rendered at once", DefaultValueFactory = _ => 1 };
        var images = new Option<string?>("--images") { Description = "Folder of photos for dataset examples and the activation they reach" };
        var shard = new Option<string>("--shard") { Description = "Render part i of n (0-based), e.g. 3/8; auto/8 reads SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX", DefaultValueFactory = _ => "0/1" };
        var output = new Option<string?>("--out") { Description = "Atlas folder (a finished channel there is kept: runs resume)" };
        var command = new Command("atlas", "A layer atlas: one visualization per channel, sharded and resumable, on a browsable page")
            { ObjectiveOptions.Layer, channels, batch, images, shard, ModelOptions.Device, output, Merge() };
        foreach (var option in RenderOptions.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var layer = ObjectiveOptions.RequireLayer(parse);
            var folder = parse.GetValue(output) ?? throw new InvalidSettingException("give --out, the atlas folder");
            var part = Shard.Parse(parse.GetValue(shard)!);
            using var model = ModelOptions.LoadOnDevice(parse);
            var list = parse.GetValue(channels) is { } text
                ? AtlasSettings.ParseChannels(text)
                : [.. Enumerable.Range(0, model.Tap(layer).Channels)];
            var (height, width) = RenderOptions.ImageSize(parse, model);
            var settings = new AtlasSettings(layer, list, parse.GetValue(RenderOptions.Prior)!, parse.GetValue(RenderOptions.Steps), height, width,
                parse.GetValue(RenderOptions.Seed), parse.GetValue(batch), parse.GetValue(images));
            ProgressBar? bar = null;
            var progress = new SynchronousProgress<AtlasProgress>(p =>
            {
                bar ??= new ProgressBar($"atlas {layer} shard {part}", p.Total);
                bar.Report(p.Done, $"channel {p.Channel} {(p.Skipped ? "kept" : $"{p.FinalActivation:0.##}")}");
            });
            var manifest = LayerAtlas.Render(model, settings, part, folder, progress, CliRunner.Cancellation.Token, new PlotlyCharts());
            Summarize(manifest, folder);
            return 0;
        });
        return command;
    }

    static Command Merge()
    {
        var folders = new Argument<string[]>("folders") { Description = "Shard folders", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Merged atlas folder", Required = true };
        var command = new Command("merge", "Merge atlas shard folders into one atlas (they must share their settings)") { folders, output };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(output)!;
            var manifest = LayerAtlas.Merge(parse.GetValue(folders)!, folder, new PlotlyCharts());
            Summarize(manifest, folder);
            if (manifest.Missing.Count == 0) return 0;
            Console.Error.WriteLine($"warning: channels {AtlasSettings.FormatChannels(manifest.Missing)} are in no shard; run the missing shards and merge again");
            return 4;
        });
        return command;
    }

    static void Summarize(AtlasManifest manifest, string folder)
    {
        bool photos = manifest.Channels.Any(c => c.DatasetMax is not null);
        Console.WriteLine(photos ? "channel  activation  photo max  ratio" : "channel  activation");
        foreach (var c in manifest.Channels)
            Console.WriteLine(c.DatasetMax is { } max
                ? $"{c.Channel,7}  {c.FinalActivation,10:0.###}  {max,9:0.###}  {(max != 0 ? $"{c.FinalActivation / max:0.##}x" : "-"),5}"
                : $"{c.Channel,7}  {c.FinalActivation,10:0.###}");
        Console.WriteLine($"{manifest.Channels.Count} channels of {manifest.Settings.Layer} (shards {string.Join(", ", manifest.Shards)}); open {Path.Combine(folder, "index.html")}");
    }
}
