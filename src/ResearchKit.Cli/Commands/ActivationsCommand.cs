using ResearchKit.IO;
using System.CommandLine;
using ResearchKit.Cli.Options;
using System.Text.Json;
using ResearchKit.Imaging;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit activations IMAGE --layer TAP</c>: which channels fire for a photo.</summary>
static class ActivationsCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "Image file (PNG, JPEG, WebP)" };
        var layer = new Option<string>("--layer") { Description = "Tap name or alias, e.g. layer3", Required = true };
        var top = new Option<int>("--top") { Description = "How many of the strongest channels to list", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print {\"layer\": ..., \"channels\": [...]} with every channel's mean" };
        var command = new Command("activations", "Forward one image (resized to the model's input size) and report the mean activation of every channel of a tap")
            { image, layer, top, json };
        command.SetAction(parse =>
        {
            using var model = ModelOptions.Load(parse);
            var tap = parse.GetValue(layer)!;
            model.ResolveTap(tap);
            using var photo = ImageIO.Load(parse.GetValue(image)!, model.InputWidth, model.InputHeight);
            var means = model.ChannelMeans(photo, tap);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { layer = tap, image = parse.GetValue(image), channels = means }, KitJson.Options));
                return 0;
            }
            Console.WriteLine($"{tap}: {means.Length} channels, mean {means.Average():0.###}, max {means.Max():0.###}");
            foreach (var (value, channel) in means.Select((v, c) => (v, c)).OrderByDescending(p => p.v).Take(parse.GetValue(top)))
                Console.WriteLine($"  channel {channel,4}  {value,9:0.###}");
            return 0;
        });
        return command;
    }
}
