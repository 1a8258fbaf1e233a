using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Priors;

/// <summary>Smoothing filters on [N,C,H,W] tensors, used by the blur priors and usable on their own.</summary>
public static class ImageFilters
{
    /// <summary>
    /// Gaussian blur of each channel with standard deviation <paramref name="sigma"/> pixels; the kernel reaches 4σ
    /// (as scipy's gaussian_filter, which Yosinski et al. used) and the border is mirrored. σ ≤ 0 returns the input.
    /// </summary>
    public static Tensor GaussianBlur(Tensor input, double sigma)
    {
        RequireSpatial(input, nameof(input));
        if (!double.IsFinite(sigma)) throw new InvalidSettingException("σ must be finite.", nameof(sigma), sigma);
        if (sigma <= 0) return input.alias();
        int radius = (int)Math.Ceiling(4 * sigma);
        long channels = input.shape[1];
        using var scope = NewDisposeScope();
        var kernel = GaussianKernel(sigma, radius, input.dtype, input.device);
        var horizontal = kernel.reshape(1, 1, 1, -1).expand(channels, 1, 1, 2 * radius + 1);
        var vertical = kernel.reshape(1, 1, -1, 1).expand(channels, 1, 2 * radius + 1, 1);
        var x = PadEdges(input, radius);
        x = F.conv2d(x, horizontal, groups: channels);
        x = F.conv2d(x, vertical, groups: channels);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Bilateral filter (Tomasi &amp; Manduchi 1998): each pixel becomes the average of its neighbours within 3σₛ,
    /// weighted by exp(−d²/2σₛ²) for spatial distance d and exp(−c²/2σ_c²) for colour distance c. Across a flat region
    /// it smooths like a Gaussian blur; across an edge the colour term gives the far side almost no weight, so the edge
    /// survives. Colour distances are measured on <paramref name="guide"/> (same batch and size; default: the input
    /// itself) in its units — pass the rendered image when <paramref name="input"/> holds raw parameters such as logits.
    /// </summary>
    public static Tensor Bilateral(Tensor input, double sigmaSpace, double sigmaColor, Tensor? guide = null)
    {
        RequireSpatial(input, nameof(input));
        if (!(sigmaSpace >= 0) || !double.IsFinite(sigmaSpace))
            throw new InvalidSettingException("σ (space) must be finite and ≥ 0.", nameof(sigmaSpace), sigmaSpace);
        if (!(sigmaColor > 0) || !double.IsFinite(sigmaColor))
            throw new InvalidSettingException("σ (colour) must be finite and > 0.", nameof(sigmaColor), sigmaColor);
        guide ??= input;
        if (guide.dim() != 4 || guide.shape[0] != input.shape[0] || guide.shape[2] != input.shape[2] || guide.shape[3] != input.shape[3])
            throw new InvalidSettingException($"The guide {ImageTensors.Shape(guide)} must match the input {ImageTensors.Shape(input)} in batch, height and width.", nameof(guide));
        int radius = (int)Math.Ceiling(3 * sigmaSpace);
        if (radius == 0) return input.alias();
        int k = 2 * radius + 1;
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3], cg = guide.shape[1];

        using var scope = NewDisposeScope();
        var values = Neighbourhoods(input, radius).view(n, c, k * k, h, w);
        var guideValues = Neighbourhoods(guide.to(input.dtype), radius).view(n, cg, k * k, h, w);
        var colourDistance = (guideValues - guide.to(input.dtype).unsqueeze(2)).square().sum(1, keepdim: true); // [N,1,k²,H,W]
        var offsets = arange(-radius, radius + 1, dtype: input.dtype, device: input.device);
        var spatialDistance = (offsets.reshape(-1, 1).square() + offsets.reshape(1, -1).square()).reshape(1, 1, k * k, 1, 1);
        var weights = (-(spatialDistance / (2 * sigmaSpace * sigmaSpace)) - colourDistance / (2 * sigmaColor * sigmaColor)).exp();
        var result = (weights * values).sum(2) / weights.sum(2);
        return result.MoveToOuterDisposeScope();
    }

    // unfold lists each pixel's k×k window, row-major, as channel·k² + (dy·k + dx).
    static Tensor Neighbourhoods(Tensor x, int radius) =>
        F.unfold(PadEdges(x, radius), (2 * radius + 1, 2 * radius + 1));

    static Tensor PadEdges(Tensor x, int radius)
    {
        // Mirroring needs the image to be wider than the border; tiny images repeat their edge instead.
        var mode = radius < x.shape[2] && radius < x.shape[3] ? TorchSharp.PaddingModes.Reflect : TorchSharp.PaddingModes.Replicate;
        return F.pad(x, [radius, radius, radius, radius], mode);
    }

    static Tensor GaussianKernel(double sigma, int radius, ScalarType dtype, Device device)
    {
        var weights = new double[2 * radius + 1];
        for (int i = -radius; i <= radius; i++) weights[i + radius] = Math.Exp(-i * i / (2 * sigma * sigma));
        double sum = weights.Sum();
        return tensor(weights.Select(v => v / sum).ToArray(), dtype: dtype, device: device);
    }

    static void RequireSpatial(Tensor input, string paramName)
    {
        ArgumentNullException.ThrowIfNull(input, paramName);
        if (input.dim() != 4 || !input.is_floating_point())
            throw new InvalidSettingException($"Expected a floating-point [N,C,H,W] tensor; got {input.dtype} {ImageTensors.Shape(input)}.", paramName);
    }
}
