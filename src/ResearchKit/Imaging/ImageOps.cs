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
            throw new InvalidSettingException($"Cannot crop {height}×{width} from an image of {h}×{w} (shape [{string.Join(",", images.shape)}]).");
        return images.narrow(-2, (h - height) / 2, height).narrow(-1, (w - width) / 2, width);
    }

    /// <summary>Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) repeated over three channels, so the result is
    /// still an RGB image.</summary>
    public static Tensor Grayscale(Tensor images)
    {
        if (images.shape.Length is not (3 or 4) || images.shape[^3] != 3)
            throw new InvalidSettingException($"Expected RGB images of shape [N,3,H,W] or [3,H,W]; got [{string.Join(",", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        var weights = tensor(new[] { 0.299f, 0.587f, 0.114f }, dtype: images.dtype, device: images.device).view(3, 1, 1);
        var luma = (images * weights).sum(-3, keepdim: true);
        var repeats = Enumerable.Repeat(1L, images.shape.Length).ToArray();
        repeats[^3] = 3;
        return luma.repeat(repeats).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Images of any channel count ([N,C,H,W] or [C,H,W]) as RGB, for display: 3 channels as they are, 1 as grey, 2 as
    /// red and green with their mean as blue, and 4 or more as their first three (for RGB plus extra bands, the colour
    /// part).
    /// </summary>
    public static Tensor ToRgb(Tensor images)
    {
        if (images.shape.Length is not (3 or 4) || images.shape[^3] < 1)
            throw new InvalidSettingException($"Expected images of shape [N,C,H,W] or [C,H,W]; got [{string.Join(",", images.shape)}].", nameof(images));
        long channels = images.shape[^3];
        if (channels == 3) return images.alias();
        if (channels > 3) return images.narrow(-3, 0, 3);
        var repeats = Enumerable.Repeat(1L, images.shape.Length).ToArray();
        repeats[^3] = 3;
        if (channels == 1) return images.repeat(repeats);
        using var scope = NewDisposeScope();
        return cat([images, images.mean([-3], keepdim: true)], -3).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Photos (RGB, [N,3,H,W] or [3,H,W]) as input for a network of <paramref name="channels"/> channels: RGB as it is,
    /// or one channel of luma (ITU-R BT.601) for a grayscale network. Other channel counts have no photo equivalent.
    /// </summary>
    public static Tensor ToChannels(Tensor rgb, int channels)
    {
        if (rgb.shape.Length is not (3 or 4) || rgb.shape[^3] != 3)
            throw new InvalidSettingException($"Expected RGB images of shape [N,3,H,W] or [3,H,W]; got [{string.Join(",", rgb.shape)}].", nameof(rgb));
        return channels switch
        {
            3 => rgb.alias(),
            1 => Grayscale(rgb).narrow(-3, 0, 1),
            _ => throw new InvalidSettingException($"a photo has no {channels}-channel equivalent (RGB gives 3 channels, grayscale 1); give the network's input as a .npy array"),
        };
    }

    /// <summary>
    /// Composites images with an alpha channel over a background: <paramref name="colourAndAlpha"/> is [N,C+1,H,W] in
    /// [0,1] (the last channel alpha), <paramref name="background"/> [N,C,H,W] or [1,C,H,W]; the result, [N,C,H,W], is
    /// alpha·colour + (1 − alpha)·background per pixel ("over" with straight, not premultiplied, alpha). Differentiable.
    /// </summary>
    public static Tensor Over(Tensor colourAndAlpha, Tensor background)
    {
        if (colourAndAlpha.dim() != 4 || colourAndAlpha.shape[1] < 2)
            throw new InvalidSettingException($"Expected images with an alpha channel, [N,C+1,H,W]; got [{string.Join(",", colourAndAlpha.shape)}].", nameof(colourAndAlpha));
        long colours = colourAndAlpha.shape[1] - 1;
        if (background.dim() != 4 || background.shape[1] != colours || background.shape[2] != colourAndAlpha.shape[2] || background.shape[3] != colourAndAlpha.shape[3])
            throw new InvalidSettingException($"The background [{string.Join(",", background.shape)}] does not match the {colours} colour channel(s) and size of [{string.Join(",", colourAndAlpha.shape)}].", nameof(background));
        using var scope = NewDisposeScope();
        var alpha = colourAndAlpha.narrow(1, colours, 1);
        return (alpha * colourAndAlpha.narrow(1, 0, colours) + (1 - alpha) * background).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A grey checkerboard, [1,<paramref name="channels"/>,H,W], squares of <paramref name="square"/> pixels alternating
    /// 0.8 and 0.6 (the top-left square light): the usual backdrop that shows where an image is transparent.
    /// </summary>
    public static Tensor Checkerboard(int height, int width, int channels = 3, int square = 8)
    {
        CheckSize(height, width);
        if (square < 1) throw new InvalidSettingException("A checkerboard square is at least 1 pixel.", nameof(square), square);
        using var scope = NewDisposeScope();
        var rows = arange(height).div(square, rounding_mode: RoundingMode.floor).unsqueeze(1);
        var columns = arange(width).div(square, rounding_mode: RoundingMode.floor).unsqueeze(0);
        var dark = (rows + columns).remainder(2).to_type(ScalarType.Float32);
        return (0.8f - 0.2f * dark).expand(1, channels, height, width).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Images with an alpha channel ([N,C+1,H,W]) composited over <see cref="Checkerboard"/>, for display: [N,C,H,W].</summary>
    public static Tensor OverCheckerboard(Tensor colourAndAlpha, int square = 8)
    {
        if (colourAndAlpha.dim() != 4 || colourAndAlpha.shape[1] < 2)
            throw new InvalidSettingException($"Expected images with an alpha channel, [N,C+1,H,W]; got [{string.Join(",", colourAndAlpha.shape)}].", nameof(colourAndAlpha));
        using var scope = NewDisposeScope();
        var board = Checkerboard((int)colourAndAlpha.shape[2], (int)colourAndAlpha.shape[3], (int)colourAndAlpha.shape[1] - 1, square)
            .to(colourAndAlpha.dtype).to(colourAndAlpha.device);
        return Over(colourAndAlpha, board).MoveToOuterDisposeScope();
    }

    static int Scaled(long side, int target, long shorter) => (int)Math.Max(1, Math.Round((double)side * target / shorter));

    // The same bounds as for loading: larger results would need more memory than is sensible to ask for.
    static void CheckSize(int height, int width)
    {
        if (height <= 0 || width <= 0)
            throw new InvalidSettingException($"Sizes must be positive; got {height}×{width}.", nameof(height));
        if (height > ImageIO.MaxSide || width > ImageIO.MaxSide || (long)height * width > ImageIO.MaxPixels)
            throw new InvalidSettingException($"{height}×{width} is too large; at most {ImageIO.MaxSide} pixels per side and {ImageIO.MaxPixels:N0} in all are accepted.", nameof(height));
    }

    // Runs a 4-D operation on a 4-D or 3-D input, returning the input's rank.
    static Tensor OnBatch(Tensor images, Func<Tensor, Tensor> op)
    {
        if (images.shape.Length == 4) return op(images);
        if (images.shape.Length != 3)
            throw new InvalidSettingException($"Expected images of shape [N,C,H,W] or [C,H,W]; got [{string.Join(",", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        return op(images.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
    }
}
