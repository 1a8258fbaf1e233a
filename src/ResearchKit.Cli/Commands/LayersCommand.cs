using ResearchKit.IO;
using System.CommandLine;
using ResearchKit.Cli.Options;
using System.Text.Json;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit layers</c>: every tap with its shape.</summary>
static class LayersCommand
{
    public static Command Create()
    {
        var size = new Option<int?>("--size") { Description = "Input size (square) to report shapes for (default: the model's)" };
        var all = new Option<bool>("--all") { Description = "List every raw tap, not only the named blocks" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("layers", "List the model's taps (layers) with their shapes and channel counts") { size, all, json };
        command.SetAction(parse =>
        {
            using var model = ModelOptions.Load(parse);
            int? s = parse.GetValue(size);
            var taps = model.Taps(s, s).Where(t => parse.GetValue(all) || t.Aliases.Count > 0).ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    model = model.Name,
                    input = new[] { model.InputHeight, model.InputWidth },
                    normalization = model.NormalizationDescription,
                    taps = taps.Select(t => new { name = t.Name, aliases = t.Aliases, op = t.Op, shape = t.Shape, channels = t.Channels }),
                }, KitJson.Options));
                return 0;
            }
            Console.WriteLine($"{model.Name}: input {model.InputHeight}x{model.InputWidth}, {model.NormalizationDescription}");
            Console.WriteLine($"{"tap",-16} {"raw name",-24} {"op",-18} {"shape",-18} channels");
            foreach (var t in taps)
                Console.WriteLine($"{string.Join(",", t.Aliases),-16} {t.Name,-24} {t.Op,-18} {t.ShapeText,-18} {t.Channels}");
            if (!parse.GetValue(all)) Console.WriteLine($"({model.TapNames.Count} taps in all; --all lists them)");
            return 0;
        });
        return command;
    }
}
