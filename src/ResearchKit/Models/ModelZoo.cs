using ResearchKit.Models.Execution;
using ResearchKit.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>Networks that ship with the kit or its NuGet dependencies; nothing is ever downloaded at run time.</summary>
public static class ModelZoo
{
    const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";
    const string PackageVersion = "0.23.1";
    const string ResNet18Relative = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";
    const string PreprocessRelative = "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>
    /// ImageNet ResNet-18 from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (a CNTK export). It
    /// ends at global average pooling (512 features) and has no classifier head. Its own input convention, read from
    /// the package's preprocessing model: RGB→BGR, pixels 0–255, minus a per-pixel ImageNet mean image.
    /// </summary>
    public static OnnxModel ResNet18(InputNormalization normalization = InputNormalization.Model, ExecutionMode? execution = null)
    {
        var model = OnnxModel.Load(FindPackaged(ResNet18Relative), normalization, ResNet18Preprocessing(), "resnet18", execution);
        return model;
    }

    /// <summary>
    /// Loads a model by path, or the default when <paramref name="path"/> is null or "resnet18", prepared for
    /// <paramref name="execution"/> (default <see cref="ExecutionMode.Fast"/>; preparing once saves a second audit).
    /// </summary>
    public static Model Load(string? path, InputNormalization normalization = InputNormalization.Model, ExecutionMode? execution = null) =>
        path is null || path.Equals("resnet18", StringComparison.OrdinalIgnoreCase)
            ? ResNet18(normalization, execution)
            : OnnxModel.Load(path, normalization, execution: execution);

    /// <summary>Path of the packaged ResNet-18 ONNX file.</summary>
    public static string ResNet18File => FindPackaged(ResNet18Relative);

    /// <summary>
    /// The preprocessing model is Split(RGB) → Concat(B,G,R) → Sub(MeanImage) on 0–255 input; its mean image (a
    /// 1x3x224x224 initializer, BGR) is read from the file rather than copied into the kit.
    /// </summary>
    static Preprocessing ResNet18Preprocessing()
    {
        var file = FindPackaged(PreprocessRelative);
        var proto = OnnxModel.ReadProto(file);
        var sub = proto.Graph.Node.FirstOrDefault(n => n.OpType == "Sub")
            ?? throw new ModelLoadException($"{file}: expected a Sub node holding the mean image");
        var meanProto = proto.Graph.Initializer.FirstOrDefault(t => sub.Input.Contains(t.Name))
            ?? throw new ModelLoadException($"{file}: the Sub node's mean image is not an initializer");
        var mean = OnnxTensors.ToTensor(meanProto, file, null).DetachFromDisposeScope();
        if (mean.dim() == 3) mean = mean.unsqueeze(0);
        return Preprocessing.MeanImage(mean, reverseChannels: true, scale: 255f,
            "BGR, 0-255, minus the ImageNet per-pixel mean image (ResNetPreprocess.onnx)");
    }

    /// <summary>Looks beside the application (the package's build step copies the models there), then in the NuGet folder.</summary>
    static string FindPackaged(string relative)
    {
        var nuget = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, relative),
            Path.Combine(nuget, PackageId, PackageVersion, "tools", relative),
        ];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new ModelLoadException(
                $"the packaged ResNet-18 was not found (looked in {string.Join(" and ", candidates)}); " +
                $"restore a project that references the NuGet package {PackageId} {PackageVersion}");
    }
}
