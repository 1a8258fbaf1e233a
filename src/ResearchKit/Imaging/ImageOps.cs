using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Imaging;

/// <summary>
/// Geometry and colour operations on image tensors ([N,C,H,W] or [C,H,W]); every one is differentiable, so it can sit
/// inside an optimization loop. Results have the input's rank.
/// </summary>
public static class ImageOps
{
    /// <summary>Bilinear resize to <paramref name="height"/>×<paramref name="width"/> (align_corners=false, as
    /// PyTorch's default), antialiased when shrinking so that fine detail averages instead of aliasing.</summary>
    public static Tensor Resize(Tensor images, int height, int width)
    {
        CheckSize(height, width);
        return OnBatch(images, x =>
        {
            bool shrinking = height < x.shape[2] || width < x.shape[3];
            return nn.functional.interpolate(x, [height, width], mode: InterpolationMode.Bilinear,
                align_corners: false, antialias: shrinking);
        });
    }

    /// <summary>Resizes so that the shorter side is <paramref name="size"/> pixels, keeping the aspect ratio.</summary>
    public static Tensor ResizeShorterSide(Tensor images, int size)
    {
        CheckSize(size, size);
        long h = images.shape[^2], w = images.shape[^1];
        return h <= w
            ? Resize(images, size, Scaled(w, size, h))
            : Resize(images, Scaled(h, size, w), size);
    }

    /// <summary>The central <paramref name="height"/>×<paramref name="width"/> region (a view, no copy); an odd
    /// margin leaves the extra pixel at the bottom/right.</summary>
    public static Tensor CenterCrop(Tensor images, int height, int width)
    {
        CheckSize(height, width);
        long h = images.shape[^2], w = images.shape[^1];
        if (height > h || width > w)
            throw new ArgumentException($"Cannot crop {height}×{width} from an image of {h}×{w} (shape [{string.Join(",", images.shape)}]).");
        return images.narrow(-2, (h - height) / 2, height).narrow(-1, (w - width) / 2, width);
    }

    /// <summary>Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) repeated over three channels, so the result is
    /// still an RGB image.</summary>
    public static Tensor Grayscale(Tensor images)
    {
        if (images.shape.Length is not (3 or 4) || images.shape[^3] != 3)
            throw new ArgumentException($"Expected RGB images of shape [N,3,H,W] or [3,H,W]; got [{string.Join(",", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        var weights = tensor(new[] { 0.299f, 0.587f, 0.114f }, dtype: images.dtype, device: images.device).view(3, 1, 1);
        var luma = (images * weights).sum(-3, keepdim: true);
        var repeats = Enumerable.Repeat(1L, images.shape.Length).ToArray();
        repeats[^3] = 3;
        return luma.repeat(repeats).MoveToOuterDisposeScope();
    }

    static int Scaled(long side, int target, long shorter) => (int)Math.Max(1, Math.Round((double)side * target / shorter));

    // The same bounds as for loading: larger results would need more memory than is sensible to ask for.
    static void CheckSize(int height, int width)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), $"Sizes must be positive; got {height}×{width}.");
        if (height > ImageIO.MaxSide || width > ImageIO.MaxSide || (long)height * width > ImageIO.MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(height),
                $"{height}×{width} is too large; at most {ImageIO.MaxSide} pixels per side and {ImageIO.MaxPixels:N0} in all are accepted.");
    }

    // Runs a 4-D operation on a 4-D or 3-D input, returning the input's rank.
    static Tensor OnBatch(Tensor images, Func<Tensor, Tensor> op)
    {
        if (images.shape.Length == 4) return op(images);
        if (images.shape.Length != 3)
            throw new ArgumentException($"Expected images of shape [N,C,H,W] or [C,H,W]; got [{string.Join(",", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        return op(images.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
    }
}
