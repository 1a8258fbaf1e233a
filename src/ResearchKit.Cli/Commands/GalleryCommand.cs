using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Reports;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit gallery --out gallery/</c>: the main job, a static HTML report of probes of one model.</summary>
static class GalleryCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (index.html, images/, sections/)", DefaultValueFactory = _ => "gallery" };
        var quick = new Option<bool>("--quick") { Description = "Few steps and small images: a first look in about a minute" };
        var photo = new Option<string?>("--photo") { Description = "Sample photo name (chelsea, astronaut, ...) or image file to probe with" };
        var seed = new Option<int>("--seed") { Description = "Seed of every render", DefaultValueFactory = _ => 0 };
        var command = new Command("gallery", "Render a static HTML gallery of the model: block-by-block DeepDream, channel visualizations, " +
            "priors side by side and the dumbbell diagnostic, with interactive charts (works offline). Rerunning resumes: finished sections are kept.")
            { output, quick, photo, seed };
        command.SetAction(parse =>
        {
            using var model = ModelOptions.Load(parse);
            var settings = parse.GetValue(quick) ? GallerySettings.Quick(parse.GetValue(seed)) : GallerySettings.Full(parse.GetValue(seed));
            if (parse.GetValue(photo) is { } p) settings = settings with { Photo = p };
            ProgressBar? bar = null;
            string? task = null;
            var progress = new SynchronousProgress<GalleryProgress>(p =>
            {
                if (p.Task == "up to date")
                {
                    Console.Error.WriteLine($"gallery: section '{p.Section}' is up to date");
                    return;
                }
                if (p.Task != task) (task, bar) = (p.Task, new ProgressBar($"{p.Section}: {p.Task}", p.Total));
                bar!.Report(p.Done);
            });
            var index = Gallery.Build(model, settings, parse.GetValue(output)!, new PlotlyCharts(), OutputOptions.Overwrite(parse), progress, CliRunner.Cancellation.Token);
            Console.WriteLine($"wrote {index}");
            return 0;
        });
        return command;
    }
}
