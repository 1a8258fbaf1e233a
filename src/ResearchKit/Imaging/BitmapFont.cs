using SixLabors.ImageSharp.PixelFormats;

namespace ResearchKit.Imaging;

/// <summary>
/// A 5×7 pixel font for printable ASCII (32–126), drawn without any system font so that captions render the same on
/// every machine. Each glyph occupies a 6×8 cell (one column and one row of spacing); all sizes scale by an integer.
/// </summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 7;
    public const int Advance = GlyphWidth + 1;
    const char First = ' ', Last = '~', Fallback = '?';

    // One string per character from ' ' to '~': seven rows, two hex digits each, bit 4 = leftmost pixel.
    static readonly string[] Glyphs =
    [
        "00000000000000", "04040404040004", "0A0A0000000000", "0A0A1F0A1F0A0A", "040F140E051E04", "18190204081303", "0C12140815120D", "04040000000000", //  !"#$%&'
        "02040808080402", "08040202020408", "0004150E150400", "0004041F040400", "000000000C0408", "0000001F000000", "00000000000C0C", "00010204081000", // ()*+,-./
        "0E11131519110E", "040C040404040E", "0E11010204081F", "1F02040201110E", "02060A121F0202", "1F101E0101110E", "0608101E11110E", "1F010204080808", // 01234567
        "0E11110E11110E", "0E11110F01020C", "000C0C000C0C00", "000C0C000C0408", "02040810080402", "00001F001F0000", "08040201020408", "0E110102040004", // 89:;<=>?
        "0E11010D15150E", "0E11111F111111", "1E11111E11111E", "0E11101010110E", "1C12111111121C", "1F10101E10101F", "1F10101E101010", "0E11101711110F", // @ABCDEFG
        "1111111F111111", "0E04040404040E", "0702020202120C", "11121418141211", "1010101010101F", "111B1515111111", "11111915131111", "0E11111111110E", // HIJKLMNO
        "1E11111E101010", "0E11111115120D", "1E11111E141211", "0F10100E01011E", "1F040404040404", "1111111111110E", "11111111110A04", "1111111515150A", // PQRSTUVW
        "11110A040A1111", "11110A04040404", "1F01020408101F", "0E08080808080E", "00100804020100", "0E02020202020E", "040A1100000000", "0000000000001F", // XYZ[\]^_
        "08040000000000", "00000E010F110F", "1010161911111E", "00000E1010110E", "01010D1311110F", "00000E111F100E", "0609081C080808", "000F11110F010E", // `abcdefg
        "10101619111111", "04000C0404040E", "0200060202120C", "10101214181412", "0C04040404040E", "00001A15151111", "00001619111111", "00000E1111110E", // hijklmno
        "00001E111E1010", "00000D130F0101", "00001619101010", "00000E100E011E", "08081C08080906", "0000111111130D", "00001111110A04", "0000111115150A", // pqrstuvw
        "0000110A040A11", "000011110F010E", "00001F0204081F", "02040408040402", "04040404040404", "08040402040408", "00000815020000",                   // xyz{|}~
    ];

    static readonly byte[] Rows = Glyphs.SelectMany(Convert.FromHexString).ToArray();

    /// <summary>Whether pixel (<paramref name="x"/>, <paramref name="y"/>) of <paramref name="c"/>'s glyph is ink;
    /// characters outside printable ASCII draw as '?'.</summary>
    public static bool IsInk(char c, int x, int y)
    {
        if (c < First || c > Last) c = Fallback;
        return (Rows[(c - First) * GlyphHeight + y] >> (GlyphWidth - 1 - x) & 1) != 0;
    }

    /// <summary>Width in pixels of <paramref name="text"/> drawn at <paramref name="scale"/> (no trailing spacing).</summary>
    public static int Measure(string text, int scale) => text.Length == 0 ? 0 : (text.Length * Advance - 1) * scale;

    /// <summary>The longest prefix of <paramref name="text"/> that fits in <paramref name="width"/> pixels, ending in
    /// "..." when shortened.</summary>
    public static string Fit(string text, int width, int scale)
    {
        if (Measure(text, scale) <= width) return text;
        int max = (width / scale + 1) / Advance;
        return max <= 3 ? text[..Math.Max(0, max)] : text[..(max - 3)] + "...";
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (<paramref name="left"/>, <paramref name="top"/>)
    /// into a row-major canvas; pixels outside the canvas are skipped.</summary>
    public static void Draw(Span<Rgb24> canvas, int canvasWidth, string text, int left, int top, int scale, Rgb24 ink)
    {
        int canvasHeight = canvas.Length / canvasWidth;
        for (int i = 0; i < text.Length; i++)
        for (int gy = 0; gy < GlyphHeight; gy++)
        for (int gx = 0; gx < GlyphWidth; gx++)
        {
            if (!IsInk(text[i], gx, gy)) continue;
            int x0 = left + (i * Advance + gx) * scale, y0 = top + gy * scale;
            for (int y = Math.Max(0, y0); y < Math.Min(canvasHeight, y0 + scale); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(canvasWidth, x0 + scale); x++)
                canvas[y * canvasWidth + x] = ink;
        }
    }
}
