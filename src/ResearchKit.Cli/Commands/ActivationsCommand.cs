using System.CommandLine;
using ResearchKit.Cli.Options;
using System.Text.Json;
using System.Text.Json.Serialization;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using static TorchSharp.torch;

namespace ResearchKit.Cli.Commands;

/// <summary>
/// <c>researchkit activations INPUT --layer TAP [--layer TAP ...]</c>: which channels fire for a photo, or with
/// <c>--raw</c> every value of the taps, to check an imported network against another runtime.
/// </summary>
static class ActivationsCommand
{
    // Exact round-trip floats; NaN and infinities as the strings "NaN", "Infinity", "-Infinity".
    static readonly JsonSerializerOptions RawJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static Command Create()
    {
        var input = new Argument<string>("input")
        {
            Description = "An image (PNG, JPEG, WebP), resized to the model's input size and normalized; or a .npy float32 array " +
                "in the network's input shape ([N,C,H,W] or [C,H,W]), fed to the network as it is (no resizing, no normalization)",
        };
        var layer = new Option<string[]>("--layer") { Description = "Tap name or alias, e.g. layer3; repeat for several taps", Required = true };
        var top = new Option<int>("--top") { Description = "How many of the strongest channels to list", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON: every channel's mean, or with --raw every value" };
        var raw = new Option<bool>("--raw")
        {
            Description = "Print every value of each tap as JSON, {\"tensors\": {\"TAP\": {\"shape\": [...], \"data\": [...]}}}, data flat in C order",
        };
        var command = new Command("activations",
            "Run one input through the network and report each tap: the mean activation of every channel, or with --raw every value")
            { input, layer, top, json, raw };
        command.SetAction(parse =>
        {
            using var model = ModelOptions.Load(parse);
            var taps = parse.GetValue(layer)!.Distinct().ToList();
            foreach (var tap in taps) model.ResolveTap(tap);
            string path = parse.GetValue(input)!;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (image, values) = Run(model, path, taps);
            if (parse.GetValue(raw))
            {
                var tensors = taps.ToDictionary(t => t, t => new
                {
                    shape = values[t].shape,
                    data = values[t].to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray(),
                });
                Console.WriteLine(JsonSerializer.Serialize(new { tensors }, RawJson));
                return 0;
            }
            if (image.shape[0] != 1)
                throw new InvalidSettingException($"{path} holds a batch of {image.shape[0]}; channel means are for one input (--raw prints a batch's values)");
            var means = taps.ToDictionary(t => t, t => ActivationLayout.ChannelMeans(values[t], image));
            if (parse.GetValue(json))
            {
                object report = taps.Count == 1
                    ? new { layer = taps[0], image = path, channels = means[taps[0]] }
                    : new { image = path, layers = means };
                Console.WriteLine(JsonSerializer.Serialize(report, KitJson.Options));
                return 0;
            }
            foreach (var tap in taps)
            {
                var channels = means[tap];
                Console.WriteLine($"{tap}: {channels.Length} channels, mean {channels.Average():0.###}, max {channels.Max():0.###}");
                foreach (var (value, channel) in channels.Select((v, c) => (v, c)).OrderByDescending(p => p.v).Take(parse.GetValue(top)))
                    Console.WriteLine($"  channel {channel,4}  {value,9:0.###}");
            }
            return 0;
        });
        return command;
    }

    // The network's input (for the patch layout) and the taps' values.
    static (Tensor Input, IReadOnlyDictionary<string, Tensor> Values) Run(Model model, string path, IReadOnlyList<string> taps)
    {
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var photo = ImageOps.ToChannels(ImageIO.Load(path, model.InputWidth, model.InputHeight), model.InputChannels);
            return (photo, model.Run(photo, taps));
        }
        var array = NpyFile.Read(path);
        if (array.dim() == 3) array = array.unsqueeze(0);
        if (array.dim() != 4 || array.shape[1] != model.InputChannels)
            throw new InvalidSettingException($"{path}: an array of shape [{string.Join(",", array.shape)}], but model '{model.Name}' takes [N,{model.InputChannels},H,W] (declared [1,{model.InputChannels},{model.InputHeight},{model.InputWidth}])");
        return (array, model.RunNetworkInput(array, taps));
    }
}
