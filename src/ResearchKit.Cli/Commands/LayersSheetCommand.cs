using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Dreaming;
using ResearchKit.IO;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit layers-sheet photo.jpg --out sheet.png</c>: the same photo dreamt at each block, side by side.</summary>
static class LayersSheetCommand
{
    public static Command Create()
    {
        var photo = new Argument<string>("photo") { Description = "Photo to dream on (PNG, JPEG, WebP)" };
        var layers = new Option<string[]>("--layers")
        {
            Description = "Layers to compare (default: the model's layer1, layer2, ... blocks)",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = result => result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
        };
        var output = OutputOptions.Out("Contact sheet image; the settings of every dream go to a .json beside it");
        var options = new DreamOptions();
        var command = new Command("layers-sheet", "Dream the same photo at each layer and lay the dreams out as one captioned sheet") { photo, layers, output };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputOptions.EnsureWritableWithSidecar(parse, path);
            using var model = ModelOptions.LoadOnDevice(parse);
            var chosen = parse.GetValue(layers) is { Length: > 0 } given ? given : model.NumberedLayers();
            var settings = options.Settings(parse, chosen[0]);
            string source = parse.GetValue(photo)!;
            using var image = options.LoadPhoto(parse, source);

            var bar = new ProgressBar("dreaming", chosen.Count * settings.TotalSteps);
            using var comparison = Dream.CompareLayers(model, image, settings, chosen, bar, cancellation: CliRunner.Cancellation.Token);
            var files = comparison.Save(path, OutputOptions.Overwrite(parse), source, Environment.CommandLine);
            bool cancelled = comparison.Dreams.Count < chosen.Count || comparison.Dreams.Any(d => d.Dream.Stop == RenderStop.Cancelled);
            foreach (var (layer, dream) in comparison.Dreams)
                Console.WriteLine($"{layer}: {dream.ObjectiveBefore:0.###} -> {dream.ObjectiveAfter:0.###}");
            Console.WriteLine($"{(cancelled ? "cancelled; " : "")}wrote {string.Join(", ", files)}");
            return cancelled ? 130 : 0;
        });
        return command;
    }
}
