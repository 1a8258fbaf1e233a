using System.Net;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Interactive;

/// <summary>
/// Image tensors (float, <c>[N,3,H,W]</c> or <c>[3,H,W]</c>, RGB in [0,1]) as PNG bytes and as HTML <c>img</c> elements
/// with the PNG inline, so that notebook outputs need no files.
/// </summary>
// PNG encoding is here only until ResearchKit.Imaging has its writer; EncodePng is the one place to switch.
public static class TensorImages
{
    /// <summary>Images narrower than this are shown enlarged (pixelated) so that a 32×32 render is visible.</summary>
    const int MinDisplayWidth = 128;

    static readonly PngEncoder Encoder = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 };

    /// <summary>True for a floating-point tensor shaped <c>[N,3,H,W]</c> or <c>[3,H,W]</c> with non-empty H and W.</summary>
    public static bool IsImage(Tensor tensor) =>
        tensor.dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16
        && tensor.shape switch
        {
            [3, > 0, > 0] => true,
            [> 0, 3, > 0, > 0] => true,
            _ => false,
        };

    /// <summary>Each image of the batch as PNG bytes (values clamped to [0,1], rounded to 8 bits).</summary>
    public static IReadOnlyList<byte[]> ToPngs(Tensor images)
    {
        if (!IsImage(images))
            throw new ArgumentException(
                $"Expected an image tensor (float, [N,3,H,W] or [3,H,W]); got {images.dtype} [{string.Join(",", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = images.dim() == 3 ? images.unsqueeze(0) : images;
        var bytes = batch.detach().to(CPU).to(float32).clamp(0, 1).mul(255).round().to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        int n = (int)bytes.shape[0], height = (int)bytes.shape[1], width = (int)bytes.shape[2];
        byte[] all = bytes.data<byte>().ToArray();
        int size = height * width * 3;
        return Enumerable.Range(0, n).Select(i => EncodePng(all.AsSpan(i * size, size), width, height)).ToArray();
    }

    /// <summary>
    /// The batch as a row of <c>img</c> elements with the PNG as a <c>data:</c> URI; <paramref name="caption"/> (plain
    /// text) goes under the row.
    /// </summary>
    public static string ToHtml(Tensor images, string? caption = null)
    {
        var pngs = ToPngs(images);
        long height = images.shape[^2], width = images.shape[^1];
        long shownWidth = Math.Max(width, MinDisplayWidth), shownHeight = height * shownWidth / width;
        string style = shownWidth > width ? " style=\"image-rendering: pixelated;\"" : "";
        var html = new StringBuilder("<div class=\"researchkit-images\" style=\"display: flex; flex-wrap: wrap; gap: 4px;\">");
        foreach (var png in pngs)
            html.Append($"<img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" ")
                .Append($"width=\"{shownWidth}\" height=\"{shownHeight}\"{style} alt=\"image {width}×{height}\">");
        html.Append("</div>");
        if (caption is not null) html.Append($"<div class=\"researchkit-caption\">{WebUtility.HtmlEncode(caption)}</div>");
        return html.ToString();
    }

    static byte[] EncodePng(ReadOnlySpan<byte> rgb, int width, int height)
    {
        using var image = Image.LoadPixelData<Rgb24>(rgb, width, height);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, Encoder);
        return stream.ToArray();
    }
}
