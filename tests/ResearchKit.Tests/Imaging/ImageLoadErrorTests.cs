using System.Text;
using ResearchKit.Imaging;
using ResearchKit.Native;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Imaging;

public sealed class ImageLoadErrorTests : IDisposable
{
    readonly TempFolder _temp = new();

    public ImageLoadErrorTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    ImageLoadException LoadFails(string path, string problem)
    {
        var error = Assert.Throws<ImageLoadException>(() => ImageIO.Load(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message);
        Assert.Contains(problem, error.Message);
        return error;
    }

    byte[] ValidBytes(string extension)
    {
        using var generator = new Generator(7);
        using var image = rand([1, 3, 64, 64], generator: generator);
        string path = _temp.File("valid" + extension);
        ImageIO.Save(image, path);
        return File.ReadAllBytes(path);
    }

    string Write(string name, byte[] bytes)
    {
        string path = _temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void A_missing_file() => LoadFails(_temp.File("nothing-here.png"), "does not exist");

    [Fact]
    public void A_folder() => LoadFails(_temp.Path, "folder");

    [Fact]
    public void An_empty_file() => LoadFails(Write("empty.png", []), "empty (0 bytes)");

    [Fact]
    public void Text_with_an_image_extension() =>
        LoadFails(Write("notes.png", Encoding.UTF8.GetBytes("these are notes, not pixels\n")), "not in a known image format (BMP, GIF, JPEG");

    [Fact]
    public void Random_bytes_with_a_jpeg_extension()
    {
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        LoadFails(Write("noise.jpg", bytes), "not in a known image format (BMP, GIF, JPEG");
    }

    [Theory]
    [InlineData(".png", "PNG file is truncated")]
    [InlineData(".jpg", "JPEG file is truncated")]
    public void A_file_cut_in_half(string extension, string problem)
    {
        var bytes = ValidBytes(extension);
        LoadFails(Write("half" + extension, bytes[..(bytes.Length / 2)]), problem);
    }

    [Fact]
    public void A_png_missing_only_its_end_chunk()
    {
        var bytes = ValidBytes(".png");
        LoadFails(Write("no-end.png", bytes[..^12]), "PNG file is truncated");
    }

    [Fact]
    public void A_png_cut_inside_its_header()
    {
        var bytes = ValidBytes(".png");
        Assert.Throws<ImageLoadException>(() => ImageIO.Load(Write("header.png", bytes[..20])));
    }

    [Fact]
    public void A_png_whose_compressed_data_is_damaged()
    {
        var bytes = ValidBytes(".png");
        int idat = bytes.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 4; i < idat + 64; i++) bytes[i] ^= 0x5A;
        Assert.Throws<ImageLoadException>(() => ImageIO.Load(Write("damaged.png", bytes)));
    }

    [Theory]
    [InlineData(20_000, 10)]
    [InlineData(16_385, 16_384)]
    public void An_absurdly_large_image_is_refused_before_decoding(int width, int height)
    {
        var error = LoadFails(Write("huge.png", Reliability.BadImages.PngHeader(width, height)), $"{width}×{height} pixels");
        Assert.Contains("16384 pixels per side", error.Message);
    }

    [Fact]
    public void A_jpeg_with_trailing_bytes_after_its_end_marker_still_loads()
    {
        var bytes = ValidBytes(".jpg").Concat(Encoding.ASCII.GetBytes("trailer written by some camera")).ToArray();
        using var image = ImageIO.Load(Write("trailer.jpg", bytes));
        Assert.Equal(new long[] { 1, 3, 64, 64 }, image.shape);
    }
}
