using ResearchKit.Imaging;
using ResearchKit.Native;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Imaging;

public class ContactSheetTests
{
    static readonly Rgb24 White = new(255, 255, 255);

    public ContactSheetTests() => TorchRuntime.EnsureLoaded();

    static Tensor Solid(int height, int width, float r, float g, float b)
    {
        using var colour = tensor(new[] { r, g, b }).view(1, 3, 1, 1);
        return colour.expand(1, 3, height, width).contiguous();
    }

    static bool AnyPixel(Image<Rgb24> image, int left, int top, int width, int height, Func<Rgb24, bool> test)
    {
        for (int y = top; y < top + height; y++)
        for (int x = left; x < left + width; x++)
            if (test(image[x, y])) return true;
        return false;
    }

    [Fact]
    public void Three_captioned_32px_images_in_two_columns_make_an_88_by_108_sheet()
    {
        using var red = Solid(32, 32, 1, 0, 0);
        // Width: gap 8 + 2 × (cell 32 + gap 8). Height: gap 8 + 2 rows × (cell 32 + caption band 10 + gap 8).
        using var sheet = ContactSheet.Create(columns: 2).Add(red, "one").Add(red, "two").Add(red, "three").Render();
        Assert.Equal((88, 108), (sheet.Width, sheet.Height));

        using var titled = ContactSheet.Create(columns: 2).Title("Sheet").Add(red, "one").Add(red, "two").Add(red, "three").Render();
        // The title band is a glyph drawn at scale 2 (16 px) plus a gap.
        Assert.Equal((88, 108 + 24), (titled.Width, titled.Height));
        Assert.True(AnyPixel(titled, 0, 8, 88, 16, p => p != White));
    }

    [Fact]
    public void Captions_are_drawn_in_the_band_under_their_cell_and_the_image_fills_its_cell()
    {
        using var red = Solid(32, 32, 1, 0, 0);
        using var sheet = ContactSheet.Create(columns: 2).Add(red, "layer1").Add(red).Render();

        Assert.Equal(new Rgb24(255, 0, 0), sheet[8 + 16, 8 + 16]);
        Assert.True(AnyPixel(sheet, 8, 8 + 32, 32, 10, p => p != White));
        Assert.False(AnyPixel(sheet, 48, 8 + 32, 32, 10, p => p != White)); // the second image has no caption
    }

    [Fact]
    public void Images_of_other_shapes_are_letterboxed_into_the_cell()
    {
        using var wide = Solid(16, 64, 0, 0, 1);
        using var tall = Solid(64, 16, 0, 1, 0);
        using var sheet = ContactSheet.Create(columns: 2).Add(wide).Add(tall).Render();
        // The cell is 64×64: the wide image is a 64×16 band across the middle, the tall one a 16×64 band down it.
        Assert.Equal((8 + 2 * 72, 8 + 72), (sheet.Width, sheet.Height));
        Assert.Equal(new Rgb24(0, 0, 255), sheet[8 + 1, 8 + 32]);
        Assert.Equal(White, sheet[8 + 32, 8 + 8]);
        Assert.Equal(new Rgb24(0, 255, 0), sheet[72 + 32, 8 + 1]);
        Assert.Equal(White, sheet[72 + 8, 8 + 32]);
    }

    [Fact]
    public void A_fixed_cell_size_scales_images_to_fit()
    {
        using var small = Solid(10, 20, 1, 1, 0);
        using var sheet = ContactSheet.Create(columns: 1).CellSize(40, 40).Gap(0).Add(small).Render();
        Assert.Equal((40, 40), (sheet.Width, sheet.Height));
        // 20×10 scaled by 2 to 40×20, centred: rows 10–29 are yellow, rows above and below are background.
        Assert.Equal(new Rgb24(255, 255, 0), sheet[20, 20]);
        Assert.Equal(White, sheet[20, 5]);
        Assert.Equal(White, sheet[20, 34]);
    }

    [Fact]
    public void A_dark_sheet_has_light_captions()
    {
        using var black = Solid(32, 32, 0, 0, 0);
        using var sheet = ContactSheet.Create().Dark().Add(black, "x").Render();
        Assert.Equal(new Rgb24(30, 30, 30), sheet[0, 0]);
        Assert.True(AnyPixel(sheet, 8, 40, 32, 10, p => p.R > 200));
    }

    [Fact]
    public void AddBatch_adds_one_cell_per_image()
    {
        using var batch = rand(5, 3, 8, 8, generator: new Generator(1));
        using var sheet = ContactSheet.Create(columns: 3).Gap(0).AddBatch(batch).Render();
        Assert.Equal((24, 16), (sheet.Width, sheet.Height));

        var error = Assert.Throws<InvalidSettingException>(() => ContactSheet.Create().AddBatch(batch, ["a", "b"]));
        Assert.Contains("[5,3,8,8]", error.Message);
    }

    [Fact]
    public void RenderTensor_and_Save_give_the_rendered_image()
    {
        using var red = Solid(12, 12, 1, 0, 0);
        var sheet = ContactSheet.Create().Title("t").Add(red, "a");
        using var image = sheet.Render();
        using var asTensor = sheet.RenderTensor();
        Assert.Equal(new long[] { 1, 3, image.Height, image.Width }, asTensor.shape);

        string path = Path.Combine(Directory.CreateTempSubdirectory("researchkit-sheet-").FullName, "sheet.png");
        sheet.Save(path);
        using var loaded = ImageIO.Load(path);
        Assert.True(loaded.eq(asTensor).all().item<bool>());
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void An_empty_sheet_cannot_be_rendered() =>
        Assert.Throws<InvalidOperationException>(() => ContactSheet.Create().Render());
}
