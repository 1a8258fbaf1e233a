using SixLabors.ImageSharp.PixelFormats;

namespace ResearchKit.Imaging;

/// <summary>
/// A 5×7 pixel font for printable ASCII (32–126) with one row below the baseline for descenders (g, j, p, q, y, comma),
/// drawn without any system font so that captions render the same on every machine. Glyphs are 5×8 and advance by 6
/// pixels; all sizes scale by an integer.
/// </summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 8;
    public const int Advance = GlyphWidth + 1;
    const char First = ' ', Last = '~', Fallback = '?';

    // One string per character from ' ' to '~': eight rows (the last for descenders), two hex digits each, bit 4 = leftmost pixel.
    static readonly string[] Glyphs =
    [
        "0000000000000000", "0404040404000400", "0A0A000000000000", "0A0A1F0A1F0A0A00", "040F140E051E0400", "1819020408130300", "0C12140815120D00", //  !"#$%&
        "0404000000000000", "0204080808040200", "0804020202040800", "0004150E15040000", "0004041F04040000", "00000000000C0408", "0000001F00000000", // '()*+,-
        "00000000000C0C00", "0001020408100000", "0E11131519110E00", "040C040404040E00", "0E11010204081F00", "1F02040201110E00", "02060A121F020200", // ./01234
        "1F101E0101110E00", "0608101E11110E00", "1F01020408080800", "0E11110E11110E00", "0E11110F01020C00", "000C0C000C0C0000", "00000C0C000C0408", // 56789:;
        "0204081008040200", "00001F001F000000", "0804020102040800", "0E11010204000400", "0E11010D15150E00", "0E11111F11111100", "1E11111E11111E00", // <=>?@AB
        "0E11101010110E00", "1C12111111121C00", "1F10101E10101F00", "1F10101E10101000", "0E11101711110F00", "1111111F11111100", "0E04040404040E00", // CDEFGHI
        "0702020202120C00", "1112141814121100", "1010101010101F00", "111B151511111100", "1111191513111100", "0E11111111110E00", "1E11111E10101000", // JKLMNOP
        "0E11111115120D00", "1E11111E14121100", "0F10100E01011E00", "1F04040404040400", "1111111111110E00", "11111111110A0400", "1111111515150A00", // QRSTUVW
        "11110A040A111100", "11110A0404040400", "1F01020408101F00", "0E08080808080E00", "0010080402010000", "0E02020202020E00", "040A110000000000", // XYZ[\]^
        "0000000000001F00", "0804000000000000", "00000E010F110F00", "1010161911111E00", "00000E1010110E00", "01010D1311110F00", "00000E111F100E00", // _`abcde
        "0609081C08080800", "00000F11110F010E", "1010161911111100", "04000C0404040E00", "020006020202120C", "1010121418141200", "0C04040404040E00", // fghijkl
        "00001A1515111100", "0000161911111100", "00000E1111110E00", "00001E11111E1010", "00000F11110F0101", "0000161910101000", "00000E100E011E00", // mnopqrs
        "08081C0808090600", "0000111111130D00", "00001111110A0400", "0000111115150A00", "0000110A040A1100", "00001111110F010E", "00001F0204081F00", // tuvwxyz
        "0204040804040200", "0404040404040400", "0804040204040800", "0000081502000000", // {|}~
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
