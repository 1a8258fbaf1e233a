using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Priors;

/// <summary>Differentiable smoothness measures of image batches, used by objectives and priors alike.</summary>
public static class Smoothness
{
    /// <summary>
    /// Mean over pixels of (dx² + dy²)^(β/2) per batch item ([N]), with forward differences (Mahendran &amp; Vedaldi 2015).
    /// β = 1 is the classic total variation; β = 2 the smooth quadratic one.
    /// </summary>
    public static Tensor TotalVariation(Tensor image, double beta = 2)
    {
        var dx = image[.., .., ..^1, 1..] - image[.., .., ..^1, ..^1];
        var dy = image[.., .., 1.., ..^1] - image[.., .., ..^1, ..^1];
        var squared = dx.pow(2) + dy.pow(2);
        // The small offset keeps the gradient finite where the image is flat and β < 2.
        var tv = beta == 2 ? squared : (squared + 1e-8).pow(beta / 2);
        return tv.flatten(1).mean([1]);
    }

    /// <summary>A 3×3 binomial blur per channel with edge replication (shape preserved).</summary>
    public static Tensor Box3(Tensor image)
    {
        var k1 = tensor(new float[] { 0.25f, 0.5f, 0.25f }, dtype: image.dtype);
        var kernel = outer(k1, k1).expand(image.shape[1], 1, 3, 3);
        var padded = F.pad(image, [1, 1, 1, 1], PaddingModes.Replicate);
        return F.conv2d(padded, kernel, groups: image.shape[1]);
    }
}
