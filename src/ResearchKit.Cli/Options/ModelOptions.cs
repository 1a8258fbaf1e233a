using System.CommandLine;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Options;

/// <summary>Which network to load and how it runs: options every command takes (and <c>--device</c> for the commands that render).</summary>
static class ModelOptions
{
    public static readonly Option<string?> Model = new("--model")
    {
        Description = "ONNX file of the network to probe (default: the packaged ImageNet ResNet-18)",
        HelpName = "PATH",
        Recursive = true,
    };

    public static readonly Option<InputNormalization> Normalize = new("--normalize")
    {
        Description = "How pixels become network input: model (what the model expects), imagenet (torchvision mean/std), none (RGB/255)",
        DefaultValueFactory = _ => InputNormalization.Model,
        Recursive = true,
    };

    public static readonly Option<string?> Labels = new("--labels")
    {
        Description = "Class labels file for a classifier (one label per line)",
        HelpName = "PATH",
        Recursive = true,
    };

    public static readonly Option<string> Kernels = new("--kernels")
    {
        Description = "How convolutions run: fast (oneDNN, channels-last, audited against float64 at load; the default), " +
            "exact (libtorch's reference kernels), bf16 (oneDNN in bfloat16: fastest, activations within about 1-2 %; " +
            "on a CPU without bfloat16 arithmetic fast runs instead, with a note)",
        DefaultValueFactory = _ => "fast",
        Recursive = true,
    };

    /// <summary>Only on the commands that render or dream.</summary>
    public static readonly Option<string> Device = new("--device")
    {
        Description = $"Where to compute: {RenderDevice.ValidNames}; cuda needs a CUDA build of TorchSharp (environment.md)",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The options every command inherits from the root.</summary>
    public static IEnumerable<Option> Global => [Model, Normalize, Labels, Kernels, OutputOptions.Force];

    public static Model Load(ParseResult parse)
    {
        var model = ModelZoo.Load(parse.GetValue(Model), parse.GetValue(Normalize));
        var kernels = ExecutionMode.Parse(parse.GetValue(Kernels)!);
        if (model.UseExecution(kernels) != kernels)
            Console.Error.WriteLine($"note: --kernels {kernels} is not available for this model here, so {model.Execution} runs: {model.ExecutionReport[^1]}");
        if (parse.GetValue(Labels) is { } labels) model.Labels = ClassLabels.Load(labels);
        return model;
    }

    /// <summary>The model on the <c>--device</c> asked for; the device is checked first, before the model loads.</summary>
    public static Model LoadOnDevice(ParseResult parse)
    {
        string text = parse.GetValue(Device)!;
        TorchSharp.torch.Device device;
        try { device = RenderDevice.Parse(text).Resolve(); }
        catch (DeviceException e) { throw new UserErrorException($"--device {text}: {e.Reason}", e); }
        return Load(parse).To(device);
    }
}
