using System.Runtime.InteropServices;
using System.Security.Cryptography;
using ResearchKit.Imaging;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>
/// The zoom loop ("going deeper", the last section of the original DeepDream notebook): dream, zoom into the centre,
/// dream again, feeding each frame back in. Defaults are the notebook's.
/// </summary>
/// <param name="Dream">How each frame is dreamt; frame k uses seed <c>Dream.Seed + k</c>.</param>
public sealed record ZoomSettings(DreamSettings Dream)
{
    /// <summary>Frames to make (notebook: 100).</summary>
    public int Frames { get; init; } = 100;

    /// <summary>Magnification per frame about the centre (notebook: crop by s = 0.05, i.e. ×1/0.95 ≈ 1.05).</summary>
    public double Zoom { get; init; } = 1.05;

    /// <summary>Rotation per frame in degrees, counter-clockwise as displayed (the notebook has none).</summary>
    public double Rotate { get; init; }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first setting outside its valid range.</summary>
    public ZoomSettings Validate()
    {
        Dream.Validate();
        if (Frames < 1) throw new InvalidSettingException($"zoom setting Frames is {Frames}; it must be at least 1", nameof(Frames), Frames);
        if (!(Zoom >= 1 && double.IsFinite(Zoom))) throw new InvalidSettingException($"zoom setting Zoom is {Zoom}; it must be finite and at least 1 (1 = no zoom)", nameof(Zoom), Zoom);
        if (!double.IsFinite(Rotate)) throw new InvalidSettingException("zoom setting Rotate must be a finite number of degrees", nameof(Rotate), Rotate);
        return this;
    }
}

/// <summary>What the zoom loop's first frame is dreamt from: a photo or seeded noise.</summary>
/// <param name="Image">The start image, [1,3,H,W] in [0,1].</param>
/// <param name="Description">Identifies the start in the folder's settings, so a resumed run can tell it is the same.</param>
public sealed record ZoomStart(Tensor Image, string Description)
{
    /// <summary>Starts from a photo ([1,3,H,W] or [3,H,W]); <paramref name="name"/> (e.g. the file name) and a hash of the pixels identify it.</summary>
    public static ZoomStart Photo(Tensor photo, string name)
    {
        var image = Dreaming.Dream.SinglePhoto(photo);
        return new ZoomStart(image, $"photo {name} ({image.shape[3]}x{image.shape[2]}, sha256 {PixelHash(image)})");
    }

    /// <summary>Starts from grey with uniform noise of ±0.1, drawn from <paramref name="seed"/>.</summary>
    public static ZoomStart Noise(int width, int height, int seed)
    {
        if (width < Dreaming.Dream.MinOctaveSide || height < Dreaming.Dream.MinOctaveSide)
            throw new InvalidSettingException($"noise of {width}x{height} is too small; at least {Dreaming.Dream.MinOctaveSide} pixels per side", nameof(width));
        if (width > ImageIO.MaxSide || height > ImageIO.MaxSide || (long)width * height > ImageIO.MaxPixels)
            throw new InvalidSettingException($"noise of {width}x{height} is too large; at most {ImageIO.MaxSide} pixels per side and {ImageIO.MaxPixels:N0} in all", nameof(width));
        var noise = rand([1, 3, height, width], generator: new Generator((ulong)seed), device: CPU).sub_(0.5).mul_(0.2).add_(0.5);
        return new ZoomStart(noise, $"noise {width}x{height} seed {seed}");
    }

    /// <summary>Start width in pixels.</summary>
    public int Width => (int)Image.shape[3];

    /// <summary>Start height in pixels.</summary>
    public int Height => (int)Image.shape[2];

    static string PixelHash(Tensor image)
    {
        using var scope = NewDisposeScope();
        var values = image.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values.AsSpan())))[..16];
    }
}
