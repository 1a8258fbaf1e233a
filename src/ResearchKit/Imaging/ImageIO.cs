using ResearchKit.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Imaging;

/// <summary>
/// Reads and writes image files as image tensors: float32 on the CPU, shape [1,3,H,W], RGB, values in [0,1].
/// Saving clamps to [0,1] and rounds to the nearest of 256 levels, so the same tensor always gives the same bytes.
/// </summary>
public static class ImageIO
{
    /// <summary>The largest width or height <see cref="Load"/> accepts.</summary>
    public const int MaxSide = 16384;

    /// <summary>The largest pixel count <see cref="Load"/> accepts (2^28, a 16384×16384 image).</summary>
    public const long MaxPixels = 1L << 28;

    /// <summary>JPEG and lossy WebP quality used when none is given.</summary>
    public const int DefaultQuality = 92;

    /// <summary>File extensions <see cref="Save(Tensor, string, int)"/> understands, and that <see cref="ImagesIn"/> lists.</summary>
    public static IReadOnlyList<string> SaveExtensions { get; } = [".png", ".jpg", ".jpeg", ".webp"];

    /// <summary>The image files (PNG, JPEG, WebP) directly in <paramref name="folder"/>, in name order.</summary>
    /// <exception cref="DirectoryNotFoundException">There is no such folder.</exception>
    /// <exception cref="FileNotFoundException">It holds no images.</exception>
    public static IReadOnlyList<string> ImagesIn(string folder)
    {
        if (!Directory.Exists(folder)) throw new InputNotFoundException($"{folder}: image folder not found", folder);
        var files = Directory.EnumerateFiles(folder).Where(f => SaveExtensions.Contains(System.IO.Path.GetExtension(f).ToLowerInvariant())).Order().ToList();
        return files.Count > 0 ? files : throw new InputNotFoundException($"{folder}: no images ({string.Join(", ", SaveExtensions)}) in the folder");
    }

    /// <summary>
    /// Loads an image file as a [1,3,H,W] tensor. Give <paramref name="width"/> and/or <paramref name="height"/> to
    /// resize (bicubic, antialiased when shrinking); with only one of them the aspect ratio is kept.
    /// </summary>
    /// <exception cref="ImageLoadException">The file is missing, empty, truncated, not an image or absurdly large.</exception>
    public static Tensor Load(string path, int? width = null, int? height = null)
    {
        CheckTargetSize(width, nameof(width));
        CheckTargetSize(height, nameof(height));
        using var image = LoadImage(path);
        if (width is not null || height is not null)
        {
            image.Mutate(x => x.Resize(width ?? 0, height ?? 0, KnownResamplers.Bicubic));
        }
        return FromImage(image);
    }

    /// <summary>
    /// Loads an image file with its alpha channel as a [1,4,H,W] tensor (RGBA in [0,1]; files without alpha load as
    /// opaque, alpha 1).
    /// </summary>
    /// <exception cref="ImageLoadException">The file is missing, empty, truncated, not an image or absurdly large.</exception>
    public static Tensor LoadRgba(string path)
    {
        using var image = LoadImage<Rgba32>(path);
        return FromImage(image);
    }

    /// <summary>Loads an image file as 8-bit RGB, checking the file before decoding it.</summary>
    /// <exception cref="ImageLoadException">The file is missing, empty, truncated, not an image or absurdly large.</exception>
    public static Image<Rgb24> LoadImage(string path) => LoadImage<Rgb24>(path);

    static Image<TPixel> LoadImage<TPixel>(string path) where TPixel : unmanaged, IPixel<TPixel>
    {
        var file = new FileInfo(path);
        if (Directory.Exists(path)) throw new ImageLoadException(path, "it is a folder, not a file");
        if (!file.Exists) throw new ImageLoadException(path, "the file does not exist");
        if (file.Length == 0) throw new ImageLoadException(path, "the file is empty (0 bytes)");

        var info = Identify(path, file.Length);
        if (info.Width > MaxSide || info.Height > MaxSide || (long)info.Width * info.Height > MaxPixels)
            throw new ImageLoadException(path,
                $"the image is {info.Width}×{info.Height} pixels; at most {MaxSide} pixels per side and {MaxPixels:N0} in all are accepted");
        if (IsTruncated(path, info.Format))
            throw new ImageLoadException(path, $"the {info.Format.Name} file is truncated (it ends before its end marker)");
        var image = Read(path, $"the {info.Format.Name} data is damaged", () => Image.Load<TPixel>(path));
        image.Mutate(x => x.AutoOrient()); // camera photos store their rotation in EXIF
        return image;
    }

    /// <summary>Saves one image as PNG, JPEG or WebP (chosen by extension), atomically: readers see the old file or
    /// the complete new one. Accepts [3,H,W] or [1,3,H,W]; for a batch use <see cref="SaveBatch"/> or
    /// <see cref="ContactSheet"/>.</summary>
    /// <param name="quality">JPEG and WebP quality, 1–100 (PNG is lossless).</param>
    public static void Save(Tensor image, string path, int quality = DefaultQuality)
    {
        var encoder = EncoderFor(path, quality);
        using var rgb = ToImage(image);
        AtomicFile.Write(path, stream => rgb.Save(stream, encoder));
    }

    /// <summary>
    /// Saves one image with an alpha channel ([1,C+1,H,W] or [C+1,H,W]: RGBA, or grey and alpha) as an RGBA PNG or
    /// WebP, atomically; alpha is stored straight (not premultiplied), clamped and rounded like the colours.
    /// </summary>
    /// <exception cref="InvalidSettingException">Not 2 or 4 channels, or a format without alpha (JPEG).</exception>
    public static void SaveRgba(Tensor image, string path, int quality = DefaultQuality)
    {
        if (Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg")
            throw new InvalidSettingException($"Cannot save '{path}' with transparency: JPEG has no alpha channel; use .png or .webp.", nameof(path));
        var encoder = EncoderFor(path, quality);
        using var rgba = ToRgbaImage(image);
        AtomicFile.Write(path, stream => rgba.Save(stream, encoder is PngEncoder ? PngRgbaEncoder : encoder));
    }

    /// <summary>Converts a [C+1,H,W] or [1,C+1,H,W] tensor, C = 3 (RGB) or 1 (grey), the last channel alpha, to an 8-bit RGBA image.</summary>
    public static Image<Rgba32> ToRgbaImage(Tensor image)
    {
        CheckShape(image, allowBatch: false);
        long channels = image.shape[^3];
        if (channels is not (2 or 4))
            throw new InvalidSettingException($"An image with transparency has RGBA (4) or grey and alpha (2) channels; got [{string.Join(",", image.shape)}].", nameof(image));
        int height = (int)image.shape[^2], width = (int)image.shape[^1], plane = height * width;
        float[] values;
        using (NewDisposeScope())
        {
            var x = image.detach().reshape(channels, height, width);
            var colour = ImageOps.ToRgb(x.narrow(0, 0, channels - 1));
            values = cat([colour, x.narrow(0, channels - 1, 1)]).cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        }
        var pixels = new Rgba32[plane];
        for (int i = 0; i < plane; i++)
            pixels[i] = new Rgba32(ToByte(values[i]), ToByte(values[plane + i]), ToByte(values[2 * plane + i]), ToByte(values[3 * plane + i]));
        return Image.LoadPixelData<Rgba32>(pixels, width, height);
    }

    /// <summary>Converts an 8-bit RGBA image to a [1,4,H,W] float32 tensor in [0,1].</summary>
    public static Tensor FromImage(Image<Rgba32> image) => FromPixels(image, 4);

    /// <summary>Saves an 8-bit image like <see cref="Save(Tensor, string, int)"/> does.</summary>
    public static void Save(Image<Rgb24> image, string path, int quality = DefaultQuality)
    {
        var encoder = EncoderFor(path, quality);
        AtomicFile.Write(path, stream => image.Save(stream, encoder));
    }

    /// <summary>Saves each image of an [N,3,H,W] batch next to <paramref name="path"/>, numbering them:
    /// <c>frame.png</c> becomes <c>frame_0.png</c> … <c>frame_9.png</c> (zero-padded to the width of N-1).</summary>
    /// <returns>The paths written, in batch order.</returns>
    public static IReadOnlyList<string> SaveBatch(Tensor images, string path, int quality = DefaultQuality)
    {
        EncoderFor(path, quality); // refuse a bad extension or quality before writing anything
        CheckShape(images, allowBatch: true);
        using var batch = images.dim() == 3 ? images.unsqueeze(0) : images.alias();
        long count = batch.shape[0];
        int digits = Math.Max(1, (count - 1).ToString().Length);
        string stem = Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path));
        var written = new List<string>();
        for (long i = 0; i < count; i++)
        {
            string target = $"{stem}_{i.ToString().PadLeft(digits, '0')}{Path.GetExtension(path)}";
            using var one = batch[i];
            Save(one, target, quality);
            written.Add(target);
        }
        return written;
    }

    /// <summary>The PNG bytes of one image, e.g. for a <c>data:image/png;base64,...</c> URI.</summary>
    public static byte[] EncodePng(Tensor image)
    {
        using var rgb = ToImage(image);
        using var buffer = new MemoryStream();
        rgb.Save(buffer, PngEncoder);
        return buffer.ToArray();
    }

    /// <summary>
    /// Converts a [C,H,W] or [1,C,H,W] tensor to an 8-bit image (clamped to [0,1], rounded to nearest). Images that are
    /// not RGB are shown as <see cref="ImageOps.ToRgb"/> maps them: one channel as grey, four or more by their first three.
    /// </summary>
    /// <exception cref="InvalidSettingException">The shape is not a single image, or a value is NaN.</exception>
    public static Image<Rgb24> ToImage(Tensor image)
    {
        CheckShape(image, allowBatch: false);
        int height = (int)image.shape[^2], width = (int)image.shape[^1], plane = height * width;
        float[] values;
        using (NewDisposeScope())
            values = ImageOps.ToRgb(image.detach()).cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

        var pixels = new Rgb24[plane];
        for (int i = 0; i < plane; i++)
            pixels[i] = new Rgb24(ToByte(values[i]), ToByte(values[plane + i]), ToByte(values[2 * plane + i]));
        return Image.LoadPixelData<Rgb24>(pixels, width, height);
    }

    /// <summary>Converts an 8-bit image to a [1,3,H,W] float32 tensor in [0,1].</summary>
    public static Tensor FromImage(Image<Rgb24> image) => FromPixels(image, 3);

    // [1,channels,H,W] in [0,1] from 8-bit pixels: R, G, B and, for 4 channels, alpha.
    static Tensor FromPixels<TPixel>(Image<TPixel> image, int channels) where TPixel : unmanaged, IPixel<TPixel>
    {
        int width = image.Width, height = image.Height, plane = width * height;
        var values = new float[channels * plane];
        image.ProcessPixelRows(rows =>
        {
            Rgba32 pixel = default;
            for (int y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < width; x++)
                {
                    row[x].ToRgba32(ref pixel);
                    int i = y * width + x;
                    values[i] = pixel.R / 255f;
                    values[plane + i] = pixel.G / 255f;
                    values[2 * plane + i] = pixel.B / 255f;
                    if (channels == 4) values[3 * plane + i] = pixel.A / 255f;
                }
            }
        });
        return tensor(values, [1, channels, height, width], device: CPU);
    }

    static byte ToByte(float v)
    {
        if (float.IsNaN(v)) throw new InvalidSettingException("The image tensor contains NaN; it cannot be saved as an image.");
        return (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
    }

    /// <summary>Throws unless <paramref name="image"/> is [C,H,W] or [1,C,H,W] (or [N,C,H,W] when a batch is allowed).</summary>
    internal static void CheckShape(Tensor image, bool allowBatch)
    {
        var shape = image.shape;
        bool rgb = shape.Length is 3 or 4 && shape[^3] >= 1 && shape[^2] > 0 && shape[^1] > 0;
        if (rgb && (shape.Length == 3 || shape[0] == 1 || (allowBatch && shape[0] > 0))) return;
        string expected = allowBatch ? "[N,C,H,W]" : "[C,H,W] or [1,C,H,W]";
        string hint = rgb && shape[0] > 1 ? " (a batch: save each with ImageIO.SaveBatch, or lay them out with ContactSheet)" : "";
        throw new InvalidSettingException($"Expected an image tensor of shape {expected}; got [{string.Join(",", shape)}]{hint}.", nameof(image));
    }

    static readonly PngEncoder PngEncoder = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 };
    static readonly PngEncoder PngRgbaEncoder = new() { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8 };

    static IImageEncoder EncoderFor(string path, int quality)
    {
        if (quality is < 1 or > 100)
            throw new InvalidSettingException("Quality must be between 1 and 100.", nameof(quality), quality);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => PngEncoder,
            ".jpg" or ".jpeg" => new JpegEncoder { Quality = quality },
            ".webp" => new WebpEncoder { Quality = quality, FileFormat = WebpFileFormatType.Lossy },
            var other => throw new InvalidSettingException($"Cannot save '{path}': unknown image extension '{other}'; supported: {string.Join(", ", SaveExtensions)}.", nameof(path)),
        };
    }

    static void CheckTargetSize(int? size, string name)
    {
        if (size is <= 0 or > MaxSide)
            throw new InvalidSettingException($"A target size must be between 1 and {MaxSide} pixels.", name, size);
    }

    static (int Width, int Height, IImageFormat Format) Identify(string path, long length)
    {
        IImageFormat? format = null;
        var info = Read(path, "the file is damaged or cut off", () => Image.Identify(path, out format));
        if (info is null || format is null)
        {
            string known = string.Join(", ", Configuration.Default.ImageFormats.Select(f => f.Name).Order(StringComparer.OrdinalIgnoreCase));
            throw new ImageLoadException(path,
                $"the content ({length:N0} bytes) is not in a known image format ({known}){ExtensionHint(path)}");
        }
        return (info.Width, info.Height, format);
    }

    // Decoders report malformed data with a range of exception types; all of them mean the file is bad.
    static T Read<T>(string path, string problem, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageLoadException(path, $"the file cannot be read ({e.Message})", e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ImageLoadException(path, $"{problem} ({e.Message})", e);
        }
    }

    static string ExtensionHint(string path) => Path.GetExtension(path) is { Length: > 0 } ext
        ? $", despite its '{ext}' extension"
        : "";

    // ImageSharp decodes a cut-off JPEG without complaint (the missing part comes out grey), so the end markers are
    // checked here; that also names the problem plainly for PNGs.
    static bool IsTruncated(string path, IImageFormat format)
    {
        using var stream = File.OpenRead(path);
        return format switch
        {
            PngFormat => !PngHasEnd(stream),
            JpegFormat => !JpegHasEnd(stream),
            _ => false,
        };
    }

    static bool PngHasEnd(Stream stream)
    {
        Span<byte> header = stackalloc byte[8];
        stream.Position = 8;
        while (stream.Position + 12 <= stream.Length)
        {
            stream.ReadExactly(header);
            long length = (uint)(header[0] << 24 | header[1] << 16 | header[2] << 8 | header[3]);
            if (header[4..8].SequenceEqual("IEND"u8)) return true;
            stream.Position += length + 4;
        }
        return false;
    }

    // Walks the marker segments (skipping their payloads, so an embedded thumbnail's end marker doesn't count) and
    // the entropy-coded data, where a real marker is an FF not followed by 00 or a restart code, until FF D9 (end).
    static bool JpegHasEnd(Stream file)
    {
        using var stream = new BufferedStream(file, 1 << 16);
        stream.Position = 2;
        while (true)
        {
            int b;
            do b = stream.ReadByte(); while (b is >= 0 and not 0xFF);
            do b = stream.ReadByte(); while (b == 0xFF);
            switch (b)
            {
                case < 0: return false;
                case 0xD9: return true;
                case 0x00 or 0x01 or (>= 0xD0 and <= 0xD7): continue;
            }
            int high = stream.ReadByte(), low = stream.ReadByte();
            if (low < 0) return false;
            stream.Position += (high << 8 | low) - 2;
            if (stream.Position > stream.Length) return false;
        }
    }
}
