using ResearchKit.Models;
using ResearchKit.Objectives;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Attribution;

/// <summary>
/// Where does the model look? Heat maps ([H,W] in [0,1], the image's size) of how much each pixel matters to an
/// objective — the other half of a diagnostic, beside the class visualization.
/// </summary>
public static class Attribution
{
    /// <summary>
    /// Saliency (Simonyan et al. 2013): the largest absolute input gradient over the colour channels, normalized
    /// to [0,1].
    /// </summary>
    /// <param name="model">The network.</param>
    /// <param name="image">One image, [1,3,H,W] in [0,1].</param>
    /// <param name="objective">What to explain (a class logit, a channel, ...).</param>
    public static Tensor Saliency(Model model, Tensor image, Objective objective)
    {
        RequireSingle(image);
        using var scope = NewDisposeScope();
        var x = image.detach().clone().requires_grad_();
        using (var pass = model.Pass())
            objective.Evaluate(new ObjectiveContext(model, pass.Run(x, objective.Taps), x)).sum().backward();
        var map = x.grad!.abs().amax([0, 1]);
        return Normalize(map).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Grad-CAM (Selvaraju et al. 2017) at <paramref name="layer"/>: the layer's channels weighted by the mean gradient
    /// of the objective, summed, rectified, upsampled to the image and normalized to [0,1].
    /// </summary>
    public static Tensor GradCam(Model model, Tensor image, Objective objective, string layer)
    {
        RequireSingle(image);
        using var scope = NewDisposeScope();
        // The weights are constants, so the input must ask for gradients for the layer to have one.
        var x = image.detach().clone().requires_grad_();
        var taps = objective.Taps.Append(layer).Distinct().ToList();
        using var pass = model.Pass();
        var outputs = pass.Run(x, taps);
        var activation = outputs[layer];
        if (activation.dim() != 4)
            throw new InvalidSettingException($"Grad-CAM needs a spatial layer ([N,C,H,W]); '{layer}' has shape [{string.Join(",", activation.shape)}]");
        activation.retain_grad();
        objective.Evaluate(new ObjectiveContext(model, outputs, x)).sum().backward();
        var weights = activation.grad!.mean([2, 3], keepdim: true);
        var cam = F.relu((weights * activation).sum(1, keepdim: true)).detach();
        var upsampled = F.interpolate(cam, [image.shape[2], image.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
        return Normalize(upsampled[0, 0]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Blends a heat map over the image: red where the map is high, the image greyed where it is low.
    /// Returns [1,3,H,W] in [0,1].
    /// </summary>
    public static Tensor Overlay(Tensor image, Tensor heat, double strength = 0.6)
    {
        RequireSingle(image);
        using var scope = NewDisposeScope();
        var h = heat.reshape(1, 1, heat.shape[^2], heat.shape[^1]);
        var gray = image.mean([1], keepdim: true).expand(-1, 3, -1, -1);
        var red = cat([ones_like(h), zeros_like(h), zeros_like(h)], 1);
        var blended = (1 - strength * h) * (0.5 * image + 0.5 * gray) + strength * h * red;
        return blended.clamp(0, 1).MoveToOuterDisposeScope();
    }

    static Tensor Normalize(Tensor map)
    {
        var low = map.min();
        var range = (map.max() - low).clamp_min(1e-12);
        return (map - low) / range;
    }

    static void RequireSingle(Tensor image)
    {
        if (image.dim() != 4 || image.shape[0] != 1 || image.shape[1] != 3)
            throw new InvalidSettingException($"expected one RGB image [1,3,H,W], got [{string.Join(",", image.shape)}]");
    }
}
