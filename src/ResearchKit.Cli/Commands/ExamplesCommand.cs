using System.CommandLine;
using ResearchKit.Attribution;
using ResearchKit.Cli.Options;
using ResearchKit.Imaging;
using ResearchKit.IO;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit examples --images dir/ --layer L --channel C</c>: the patches that drive a channel hardest.</summary>
static class ExamplesCommand
{
    public static Command Create()
    {
        var images = new Option<string>("--images") { Description = "Folder of images to search", Required = true };
        var top = new Option<int>("--top") { Description = "How many examples", DefaultValueFactory = _ => 8 };
        var output = new Option<string?>("--out") { Description = "Contact sheet of the examples (PNG)" };
        var command = new Command("examples", "Dataset examples: the images (and patches) of a folder that drive a channel hardest")
            { images, ObjectiveOptions.Layer, ObjectiveOptions.Channel, top, output };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(output);
            OutputOptions.EnsureWritable(parse, path);
            using var model = ModelOptions.Load(parse);
            var layer = ObjectiveOptions.RequireLayer(parse);
            var channel = ObjectiveOptions.RequireChannel(parse);
            var examples = DatasetExamples.Find(model, parse.GetValue(images)!, layer, channel, parse.GetValue(top), cancellation: CliRunner.Cancellation.Token);
            try
            {
                foreach (var e in examples) Console.WriteLine($"{e.Activation,10:0.###}  {e.File} at ({e.X},{e.Y})");
                if (path is not null)
                {
                    var sheet = ContactSheet.Create(columns: 4).Title($"{layer}:{channel} dataset examples");
                    foreach (var e in examples) sheet.Add(e.Patch, $"{Path.GetFileNameWithoutExtension(e.File)} {e.Activation:0.#}");
                    sheet.Save(path);
                    Console.WriteLine($"wrote {path}");
                }
            }
            finally
            {
                foreach (var e in examples) e.Dispose();
            }
            return 0;
        });
        return command;
    }
}
