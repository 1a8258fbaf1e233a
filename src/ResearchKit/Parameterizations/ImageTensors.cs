using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>Shape checks shared by parameterizations, transforms and priors.</summary>
internal static class ImageTensors
{
    /// <summary>Throws unless <paramref name="image"/> is a floating-point [N,C,H,W] batch (any channel count).</summary>
    public static void RequireBatch(Tensor image, string paramName)
    {
        ArgumentNullException.ThrowIfNull(image, paramName);
        if (image.dim() != 4 || image.shape[1] < 1 || image.shape[0] < 1 || image.shape[2] < 1 || image.shape[3] < 1)
            throw new InvalidSettingException($"Expected an image batch of shape [N,C,H,W]; got [{string.Join(",", image.shape)}].", paramName);
        if (!image.is_floating_point())
            throw new InvalidSettingException($"Expected a floating-point image batch; got {image.dtype}.", paramName);
    }

    /// <summary>Throws unless <paramref name="image"/> is a floating-point RGB batch [N,3,H,W].</summary>
    public static void RequireRgb(Tensor image, string paramName)
    {
        RequireBatch(image, paramName);
        if (image.shape[1] != 3)
            throw new InvalidSettingException($"Expected an RGB image batch of shape [N,3,H,W]; got [{string.Join(",", image.shape)}].", paramName);
    }

    public static string Shape(Tensor t) => $"[{string.Join(",", t.shape)}]";
}
