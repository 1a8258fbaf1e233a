using ResearchKit.Imaging;
using ResearchKit.Native;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Imaging;

public sealed class ImageIOTests : IDisposable
{
    readonly TempFolder _temp = new();

    public ImageIOTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    static Tensor Noise(int height, int width, ulong seed)
    {
        using var generator = new TorchSharp.torch.Generator(seed);
        return rand([1, 3, height, width], generator: generator);
    }

    // r rises left to right, g top to bottom: smooth enough for lossy codecs to keep closely.
    static Tensor Gradient(int height, int width)
    {
        using var scope = NewDisposeScope();
        var x = linspace(0, 1, width).view(1, 1, 1, width).expand(1, 1, height, width);
        var y = linspace(0, 1, height).view(1, 1, height, 1).expand(1, 1, height, width);
        return cat([x, y, full([1, 1, height, width], 0.5f)], 1).MoveToOuterDisposeScope();
    }

    [Fact]
    public void Png_round_trip_is_exact_for_8_bit_levels_and_within_half_a_level_otherwise()
    {
        using var noise = Noise(17, 23, seed: 1);
        using var levels = (noise * 255).round() / 255;
        string path = _temp.File("levels.png");

        ImageIO.Save(levels, path);
        using var exact = ImageIO.Load(path);
        Assert.Equal(new long[] { 1, 3, 17, 23 }, exact.shape);
        Assert.True((exact - levels).abs().max().item<float>() < 1e-6f);

        ImageIO.Save(noise, path);
        using var loaded = ImageIO.Load(path);
        Assert.True((loaded - noise).abs().max().item<float>() <= 0.5f / 255 + 1e-6f);
    }

    [Theory]
    [InlineData("smooth.jpg")]
    [InlineData("smooth.webp")]
    public void Lossy_round_trip_stays_close(string name)
    {
        using var image = Gradient(48, 64);
        string path = _temp.File(name);
        ImageIO.Save(image, path);
        using var loaded = ImageIO.Load(path);
        Assert.Equal(image.shape, loaded.shape);
        Assert.True((loaded - image).abs().mean().item<float>() < 0.01f);
    }

    [Fact]
    public void Values_are_clamped_and_rounded_to_the_nearest_level()
    {
        // 0.5 → 127.5 rounds up; 0.998 → 254.49 rounds down; out-of-range values clamp.
        float[] values = [-0.5f, 0f, 0.5f, 1f, 1.5f, 0.998f];
        using var image = tensor(values.Concat(values).Concat(values).ToArray(), [3, 1, 6]);
        using var rgb = ImageIO.ToImage(image);
        byte[] expected = [0, 0, 128, 255, 255, 254];
        for (int x = 0; x < 6; x++)
            Assert.Equal(new Rgb24(expected[x], expected[x], expected[x]), rgb[x, 0]);
    }

    [Fact]
    public void FromImage_puts_red_green_and_blue_in_channels_0_1_2_at_row_y_column_x()
    {
        using var image = new Image<Rgb24>(3, 2);
        image[2, 1] = new Rgb24(255, 51, 0);
        using var t = ImageIO.FromImage(image);
        Assert.Equal(new long[] { 1, 3, 2, 3 }, t.shape);
        Assert.Equal(1f, t[0, 0, 1, 2].item<float>());
        Assert.Equal(0.2f, t[0, 1, 1, 2].item<float>(), 6);
        Assert.Equal(0f, t[0, 0, 0, 2].item<float>());
    }

    [Fact]
    public void The_same_tensor_always_gives_the_same_bytes()
    {
        using var image = Noise(20, 30, seed: 2);
        foreach (string name in new[] { "a.png", "a.jpg", "a.webp" })
        {
            string first = _temp.File("1" + name), second = _temp.File("2" + name);
            ImageIO.Save(image, first);
            using var copy = image.clone();
            ImageIO.Save(copy, second);
            Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        }
        Assert.Equal(ImageIO.EncodePng(image), File.ReadAllBytes(_temp.File("1a.png")));
        using var unbatched = image.squeeze(0);
        Assert.Equal(ImageIO.EncodePng(image), ImageIO.EncodePng(unbatched));
    }

    [Fact]
    public void Saving_replaces_an_existing_file_entirely_and_leaves_no_temporary_files()
    {
        string path = _temp.File("out.png");
        File.WriteAllBytes(path, new byte[1 << 20]);
        using var image = Noise(8, 8, seed: 3);

        ImageIO.Save(image, path);

        Assert.Equal(ImageIO.EncodePng(image), File.ReadAllBytes(path));
        Assert.Equal(new[] { "out.png" }, Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_batch_is_refused_by_Save_naming_its_shape_and_written_item_by_item_by_SaveBatch()
    {
        using var first = Noise(4, 5, seed: 4);
        using var batch = cat([first, first * 0.5], 0);

        var error = Assert.Throws<InvalidSettingException>(() => ImageIO.Save(batch, _temp.File("b.png")));
        Assert.Contains("[2,3,4,5]", error.Message);
        Assert.Contains("SaveBatch", error.Message);

        var paths = ImageIO.SaveBatch(batch, _temp.File("frame.png"));
        Assert.Equal(new[] { _temp.File("frame_0.png"), _temp.File("frame_1.png") }, paths);
        for (int i = 0; i < 2; i++)
        {
            using var loaded = ImageIO.Load(paths[i]);
            using var expected = batch[i].unsqueeze(0);
            Assert.True((loaded - expected).abs().max().item<float>() <= 0.5f / 255 + 1e-6f);
        }
        using var single = batch[0];
        Assert.Equal(new[] { _temp.File("one_0.png") }, ImageIO.SaveBatch(single, _temp.File("one.png")));
    }

    [Fact]
    public void Saving_to_an_unknown_extension_lists_the_supported_ones()
    {
        using var image = Noise(4, 4, seed: 5);
        var error = Assert.Throws<InvalidSettingException>(() => ImageIO.Save(image, _temp.File("x.bmp")));
        Assert.Contains("'.bmp'", error.Message);
        Assert.Contains(".png, .jpg, .jpeg, .webp", error.Message);
        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void A_NaN_cannot_be_saved()
    {
        using var image = full([1, 3, 2, 2], float.NaN);
        Assert.Throws<InvalidSettingException>(() => ImageIO.EncodePng(image));
    }

    [Fact]
    public void Load_resizes_to_both_sides_or_keeps_the_aspect_ratio_from_one()
    {
        using var image = Gradient(100, 200);
        string path = _temp.File("wide.png");
        ImageIO.Save(image, path);

        using var both = ImageIO.Load(path, width: 30, height: 40);
        using var byWidth = ImageIO.Load(path, width: 50);
        using var byHeight = ImageIO.Load(path, height: 10);

        Assert.Equal(new long[] { 1, 3, 40, 30 }, both.shape);
        Assert.Equal(new long[] { 1, 3, 25, 50 }, byWidth.shape);
        Assert.Equal(new long[] { 1, 3, 10, 20 }, byHeight.shape);
        // A smooth gradient survives shrinking: the blue plane stays 0.5, the mean of red stays near 0.5.
        Assert.Equal(0.5f, byWidth[0, 0].mean().item<float>(), 2);
        Assert.Equal(0.5f, byWidth[0, 2].mean().item<float>(), 2);
    }

    [Fact]
    public void The_content_decides_the_format_not_the_extension()
    {
        using var image = Noise(6, 9, seed: 6);
        string path = _temp.File("really-a-png.jpg");
        File.WriteAllBytes(path, ImageIO.EncodePng(image));
        using var loaded = ImageIO.Load(path);
        Assert.True((loaded - image).abs().max().item<float>() <= 0.5f / 255 + 1e-6f);
    }

    [Fact]
    public void A_photo_is_turned_upright_by_its_EXIF_orientation()
    {
        using var photo = new Image<Rgb24>(40, 20);
        photo.Metadata.ExifProfile = new ExifProfile();
        photo.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6); // "rotate 90° clockwise to view"
        string path = _temp.File("portrait.jpg");
        photo.SaveAsJpeg(path);
        using var loaded = ImageIO.Load(path);
        Assert.Equal(new long[] { 1, 3, 40, 20 }, loaded.shape);
    }
}
