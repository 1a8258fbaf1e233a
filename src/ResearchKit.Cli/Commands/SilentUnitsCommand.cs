using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Diagnostics;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary>
/// <c>researchkit silent-units --layer layer4 --count 16 --out s.png</c>: channels silent on grey, rendered with the
/// redirected ReLU gradient off, for the first 16 steps and throughout, against the sample photos' best.
/// </summary>
static class SilentUnitsCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "How many silent channels to render (a seeded sample)", DefaultValueFactory = _ => 16 };
        var settings = new Option<string[]>("--settings")
        {
            Description = "Redirect settings to compare (default: off 16 throughout)",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = OutputOptions.Out("Contact sheet (PNG), one row per channel; a .md table and a .json go beside it");
        var command = new Command("silent-units",
            "Channels of a layer that are exactly 0 on a grey image, rendered with and without the redirected ReLU gradient, against the best sample photo")
            { ObjectiveOptions.Layer, count, settings, ModelOptions.Device, output };
        foreach (var option in new Option[] { RenderOptions.Prior, RenderOptions.Steps, RenderOptions.Size, RenderOptions.Width, RenderOptions.Height, RenderOptions.Seed })
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(output)!;
            OutputOptions.EnsureWritable(parse, path, Path.ChangeExtension(path, ".json"), Path.ChangeExtension(path, ".md"));
            using var model = ModelOptions.LoadOnDevice(parse);
            var layer = ObjectiveOptions.RequireLayer(parse);
            var compared = parse.GetValue(settings) is { Length: > 0 } names ? names.Select(ReluRedirect.Parse).ToList() : SilentUnits.Settings;
            var plan = RenderOptions.Plan(parse, model, layer);
            int channels = Math.Max(1, parse.GetValue(count));
            var photos = SampleImages.Names.ToDictionary(name => name, name => SampleImages.Load(name, plan.Width, plan.Height));
            try
            {
                var bar = new ProgressBar("silent units", channels * compared.Count * plan.StepCount);
                using var study = SilentUnits.Study(plan.ReportTo(bar), layer, channels, photos, compared, CliRunner.Cancellation.Token);
                var files = study.Save(path, OutputOptions.Overwrite(parse));
                Console.WriteLine(study.ToMarkdown());
                Console.WriteLine($"wrote {string.Join(", ", files)}");
                return study.Channels.Count < Math.Min(channels, study.SilentCount) ? 130 : 0;
            }
            finally
            {
                foreach (var photo in photos.Values) photo.Dispose();
            }
        });
        return command;
    }
}
