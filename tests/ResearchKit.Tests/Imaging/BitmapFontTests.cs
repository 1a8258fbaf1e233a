using ResearchKit.Imaging;
using SixLabors.ImageSharp.PixelFormats;

namespace ResearchKit.Tests.Imaging;

public class BitmapFontTests
{
    static string Art(char c) => string.Join("\n", Enumerable.Range(0, BitmapFont.GlyphHeight).Select(y =>
        new string(Enumerable.Range(0, BitmapFont.GlyphWidth).Select(x => BitmapFont.IsInk(c, x, y) ? '#' : '.').ToArray())));

    [Fact]
    public void Glyphs_read_left_to_right_and_top_to_bottom()
    {
        Assert.Equal(".###.\n#...#\n#...#\n#####\n#...#\n#...#\n#...#\n.....", Art('A'));
        Assert.Equal(".....\n.....\n####.\n#...#\n#...#\n####.\n#....\n#....", Art('p')); // descends one row
    }

    [Fact]
    public void Every_printable_character_has_its_own_glyph_and_only_space_is_blank()
    {
        var printable = Enumerable.Range(32, 95).Select(i => (char)i).ToList();
        Assert.Equal(95, printable.Select(Art).Distinct().Count());
        Assert.Equal([' '], printable.Where(c => !Art(c).Contains('#')));
        Assert.Equal(Art('?'), Art('é'));
    }

    [Fact]
    public void Text_is_measured_and_shortened_with_an_ellipsis()
    {
        Assert.Equal(22, BitmapFont.Measure("ab", 2)); // two 5-px glyphs and one 1-px space, doubled
        Assert.Equal("abcdef", BitmapFont.Fit("abcdef", 35, 1));
        Assert.Equal("abc...", BitmapFont.Fit("abcdefghij", 35, 1));
    }

    [Fact]
    public void Drawing_at_scale_3_paints_a_3_by_3_block_per_glyph_pixel()
    {
        var canvas = new Rgb24[40 * 30];
        var ink = new Rgb24(9, 9, 9);
        BitmapFont.Draw(canvas, 40, "T", 2, 1, 3, ink);
        Assert.Equal(11 * 9, canvas.Count(p => p == ink)); // 'T': a 5-pixel bar and a 6-pixel stem
        // Glyph pixel (gx, gy) covers x = 2 + 3gx … 4 + 3gx, y = 1 + 3gy … 3 + 3gy.
        Assert.Equal(ink, canvas[1 * 40 + 2]);      // bar, (0, 0), top-left corner
        Assert.Equal(ink, canvas[3 * 40 + 16]);     // bar, (4, 0), bottom-right corner
        Assert.Equal(default, canvas[4 * 40 + 2]);  // (0, 1) is blank
        Assert.Equal(ink, canvas[21 * 40 + 10]);    // stem, (2, 6), bottom-right corner
        Assert.Equal(default, canvas[22 * 40 + 10]); // nothing below the glyph
    }
}
