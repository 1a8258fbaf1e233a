using ResearchKit.Imaging;
using ResearchKit.Native;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Imaging;

public class ImageOpsTests
{
    public ImageOpsTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(17, 23)] // shrinking: antialiased
    [InlineData(61, 90)] // growing
    [InlineData(40, 90)] // one side each way
    public void Resizing_a_constant_image_keeps_its_value_and_gives_the_asked_shape(int height, int width)
    {
        using var image = full([2, 3, 40, 60], 0.37f);
        using var resized = ImageOps.Resize(image, height, width);
        Assert.Equal(new long[] { 2, 3, height, width }, resized.shape);
        Assert.True((resized - 0.37f).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Resize_keeps_the_rank_of_a_single_image()
    {
        using var image = zeros(3, 10, 12);
        using var resized = ImageOps.Resize(image, 5, 6);
        Assert.Equal(new long[] { 3, 5, 6 }, resized.shape);
    }

    [Fact]
    public void Upsampling_matches_hand_computed_bilinear_weights_with_half_pixel_centres()
    {
        // Output pixel x samples input position (x + 0.5) / 2 - 0.5: -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        using var line = tensor(new[] { 0f, 1f }, [1, 1, 1, 2]);
        using var resized = ImageOps.Resize(line, 1, 4);
        Assert.Equal(new[] { 0f, 0.25f, 0.75f, 1f }, resized.data<float>().ToArray());
    }

    [Fact]
    public void Shrinking_averages_a_fine_checkerboard_instead_of_aliasing_it()
    {
        // Shrinking 63 → 21 without a filter samples exactly every third pixel and keeps a full-contrast checkerboard.
        using var ys = arange(63).view(63, 1);
        using var xs = arange(63).view(1, 63);
        using var board = ((ys + xs) % 2).to_type(ScalarType.Float32).expand(1, 3, 63, 63);
        using var sampled = nn.functional.interpolate(board, [21, 21], mode: InterpolationMode.Bilinear, align_corners: false);
        using var resized = ImageOps.Resize(board, 21, 21);
        Assert.Equal(0.5f, (sampled - 0.5f).abs().max().item<float>());
        Assert.True((resized - 0.5f).abs().max().item<float>() < 0.2f);
    }

    [Fact]
    public void Resize_passes_gradients_with_each_output_weighting_its_inputs_by_one_in_total()
    {
        using var image = ones(1, 3, 30, 30).requires_grad_();
        using var resized = ImageOps.Resize(image, 11, 13);
        using var total = resized.sum();
        total.backward();
        Assert.Equal(3 * 11 * 13, image.grad!.sum().item<float>(), 2);
    }

    [Fact]
    public void ResizeShorterSide_keeps_the_aspect_ratio()
    {
        using var wide = zeros(1, 3, 30, 60);
        using var tall = zeros(3, 60, 30);
        using var a = ImageOps.ResizeShorterSide(wide, 10);
        using var b = ImageOps.ResizeShorterSide(tall, 10);
        Assert.Equal(new long[] { 1, 3, 10, 20 }, a.shape);
        Assert.Equal(new long[] { 3, 20, 10 }, b.shape);
    }

    [Fact]
    public void CenterCrop_takes_the_middle_leaving_an_odd_margin_pixel_at_the_bottom_right()
    {
        using var image = arange(30).to_type(ScalarType.Float32).view(1, 1, 5, 6);
        using var crop = ImageOps.CenterCrop(image, 2, 3);
        // Rows 1–2 (margin 3: one above, two below), columns 1–3 (margin 3: one left, two right).
        Assert.Equal(new[] { 7f, 8f, 9f, 13f, 14f, 15f }, crop.contiguous().data<float>().ToArray());

        var error = Assert.Throws<InvalidSettingException>(() => ImageOps.CenterCrop(image, 6, 3));
        Assert.Contains("[1,1,5,6]", error.Message);
    }

    [Fact]
    public void Grayscale_is_BT601_luma_in_all_three_channels()
    {
        using var pixels = tensor(new[] { 1f, 0f, 1f, 0f, 1f, 1f, 0f, 0f, 1f }, [3, 1, 3]); // red, green, white
        using var gray = ImageOps.Grayscale(pixels);
        Assert.Equal(new long[] { 3, 1, 3 }, gray.shape);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(0.299f, gray[c, 0, 0].item<float>(), 5);
            Assert.Equal(0.587f, gray[c, 0, 1].item<float>(), 5);
            Assert.Equal(1f, gray[c, 0, 2].item<float>(), 5);
        }
    }
}
