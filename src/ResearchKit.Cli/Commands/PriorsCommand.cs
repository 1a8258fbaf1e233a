using System.CommandLine;
using System.Text.Json;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit priors --layer L --channel C</c>: the same unit under every prior preset, side by side.</summary>
static class PriorsCommand
{
    public static Command Create()
    {
        var presets = new Option<string[]>("--presets") { Description = "Presets to compare (default: all)", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Contact sheet (PNG); a .json and .md table go beside it", Required = true };
        var command = new Command("priors", "Render one unit under every prior preset into one contact sheet, with a table of activation and naturalness")
            { VisualizeCommand.Layer, VisualizeCommand.Channel, VisualizeCommand.ClassOption, VisualizeCommand.ObjectiveText,
              VisualizeCommand.Steps, VisualizeCommand.Size, VisualizeCommand.Seed, presets, output };
        command.SetAction(parse =>
        {
            using var model = CommonOptions.LoadModel(parse);
            var objective = VisualizeCommand.ParseObjective(parse, model);
            var chosen = parse.GetValue(presets) is { Length: > 0 } names ? names.Select(PriorPresets.Get).ToList() : PriorPresets.All.ToList();
            var path = parse.GetValue(output)!;
            bool force = parse.GetValue(CommonOptions.Force);
            foreach (var file in new[] { path, Path.ChangeExtension(path, ".json"), Path.ChangeExtension(path, ".md") })
                if (!force && File.Exists(file)) throw new OutputExistsException(file);

            int index = 0;
            ProgressBar? bar = null;
            var rows = PriorComparison.Run(model, objective, chosen, parse.GetValue(VisualizeCommand.Size), parse.GetValue(VisualizeCommand.Steps),
                parse.GetValue(VisualizeCommand.Seed), (preset, frame) =>
                {
                    if (frame.Step == 1 || bar is null) bar = new ProgressBar($"[{++index}/{chosen.Count}] {preset.Name}", frame.TotalSteps);
                    bar.Report(frame.Step, $"objective {frame.Objective:0.###}");
                }, frameInterval: 1, CliRunner.Cancellation.Token);
            try
            {
                var sheet = ContactSheet.Create(columns: 4).Title($"{model.Name} {objective}");
                foreach (var row in rows) sheet.Add(row.Result.Images, $"{row.Preset} {row.Objective:0.##}");
                sheet.Save(path);
                var table = PriorTable(rows);
                AtomicFile.WriteAllText(Path.ChangeExtension(path, ".md"), $"# {model.Name}: {objective}\n\n{table}");
                AtomicFile.WriteAllText(Path.ChangeExtension(path, ".json"), JsonSerializer.Serialize(new
                {
                    model = model.Name,
                    objective = objective.Description,
                    size = parse.GetValue(VisualizeCommand.Size),
                    seed = parse.GetValue(VisualizeCommand.Seed),
                    rows = rows.Select(r => new { preset = r.Preset, paper = r.Paper, objective = r.Objective, totalVariation = r.TotalVariation,
                        highFrequencyEnergy = r.HighFrequencyEnergy, seconds = r.Seconds, settings = r.Result.Settings }),
                }, KitJson.Options));
                Console.WriteLine(table);
                Console.WriteLine($"wrote {path}");
            }
            finally
            {
                foreach (var row in rows) row.Result.Dispose();
            }
            return 0;
        });
        return command;
    }

    static string PriorTable(IReadOnlyList<PriorComparisonRow> rows) =>
        "| preset | objective | total variation | high-frequency energy | seconds |\n|---|---:|---:|---:|---:|\n" +
        string.Concat(rows.Select(r => $"| {r.Preset} | {r.Objective:0.###} | {r.TotalVariation:0.####} | {r.HighFrequencyEnergy:0.####} | {r.Seconds:0.#} |\n"));
}
