using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit priors --layer L --channel C</c>: the same unit under every prior preset, side by side.</summary>
static class PriorsCommand
{
    public static Command Create()
    {
        var presets = new Option<string[]>("--presets") { Description = "Presets to compare (default: all)", AllowMultipleArgumentsPerToken = true };
        var channels = new Option<int[]>("--channels")
        {
            Description = "Several channels of --layer, one image each, rendered as one batch (instead of --channel)",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = OutputOptions.Out("Contact sheet (PNG); a .json and .md table go beside it");
        var command = new Command("priors", "Render one unit under every prior preset into one contact sheet, with a table of activation and naturalness")
            { presets, channels, ModelOptions.Device, output };
        foreach (var option in ObjectiveOptions.All.Concat([RenderOptions.Steps, RenderOptions.Size, RenderOptions.Width, RenderOptions.Height, RenderOptions.Seed]))
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(output)!;
            OutputOptions.EnsureWritable(parse, path, Path.ChangeExtension(path, ".json"), Path.ChangeExtension(path, ".md"));
            using var model = ModelOptions.LoadOnDevice(parse);
            var several = parse.GetValue(channels) ?? [];
            var objective = several.Length > 0
                ? several.Select((channel, i) => Objective.Channel(parse.GetValue(ObjectiveOptions.Layer)
                    ?? throw new InvalidSettingException("--channels needs --layer", "--layer"), channel, batch: i)).Aggregate((a, b) => a + b)
                : ObjectiveOptions.Parse(parse, model);
            var chosen = parse.GetValue(presets) is { Length: > 0 } names ? names.Select(PriorPresets.Get).ToList() : PriorPresets.All.ToList();
            var (height, width) = RenderOptions.ImageSize(parse, model);
            var plan = Render.Plan(model, objective).Size(height, width).Seed(parse.GetValue(RenderOptions.Seed)).Batch(Math.Max(1, several.Length))
                .FromCommand(Environment.CommandLine);
            int total = chosen.Sum(p => parse.GetValue(RenderOptions.Steps) ?? p.DefaultSteps);
            using var comparison = PriorComparison.Run(plan.ReportTo(new ProgressBar("priors", total)), chosen, parse.GetValue(RenderOptions.Steps),
                cancellation: CliRunner.Cancellation.Token);
            var files = comparison.Save(path, OutputOptions.Overwrite(parse));
            Console.WriteLine(comparison.ToMarkdown());
            Console.WriteLine($"wrote {string.Join(", ", files)}");
            return comparison.Rows.Count < chosen.Count || comparison.Rows.Any(r => r.Result.Stop == RenderStop.Cancelled) ? 130 : 0;
        });
        return command;
    }
}
