using System.CommandLine;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Rendering;

namespace ResearchKit.Cli;

/// <summary>Options every command shares, and how they turn into a model.</summary>
static class CommonOptions
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
            "exact (libtorch's reference kernels), bf16 (oneDNN in bfloat16: fastest, activations within about 1-2 %)",
        DefaultValueFactory = _ => "fast",
        Recursive = true,
    };

    public static readonly Option<bool> Force = new("--force") { Description = "Overwrite existing outputs", Recursive = true };

    /// <summary>Only on the commands that render or dream.</summary>
    public static readonly Option<string> Device = new("--device")
    {
        Description = $"Where to compute: {RenderDevice.ValidNames}; cuda needs a CUDA build of TorchSharp (environment.md)",
        DefaultValueFactory = _ => "cpu",
    };

    public static Model LoadModel(ParseResult parse)
    {
        var model = ModelZoo.Load(parse.GetValue(Model), parse.GetValue(Normalize));
        var kernels = ExecutionMode.Parse(parse.GetValue(Kernels)!);
        if (model.UseExecution(kernels) != kernels)
            Console.Error.WriteLine($"note: --kernels {kernels} is not available for this model here, so {model.Execution} runs: {model.ExecutionReport[^1]}");
        if (parse.GetValue(Labels) is { } labels) model.Labels = ClassLabels.Load(labels);
        return model;
    }

    /// <summary>The model on the <c>--device</c> asked for; the device is checked first, before the model loads.</summary>
    public static Model LoadModelOnDevice(ParseResult parse)
    {
        string text = parse.GetValue(Device)!;
        TorchSharp.torch.Device device;
        try { device = RenderDevice.Parse(text).Resolve(); }
        catch (DeviceException e) { throw new ArgumentException($"--device {text}: {e.Reason}", e); }
        return LoadModel(parse).To(device);
    }
}
