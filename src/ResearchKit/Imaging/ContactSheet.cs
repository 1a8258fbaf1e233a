using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace ResearchKit.Imaging;

/// <summary>
/// Lays images out in a captioned grid and renders it as one image:
/// <code>ContactSheet.Create(columns: 4).Title("layer3").Add(a, "unit 7").Add(b, "unit 9").Save("sheet.png");</code>
/// Every image is scaled to fit its cell, keeping its aspect ratio and centred (letterboxed). Text is drawn with a
/// built-in 5×7 pixel font (plus descenders) (printable ASCII; other characters show as '?'), so no system fonts are needed.
/// Adding copies the pixels, so tensors may be disposed afterwards. Methods change the sheet and return it.
/// </summary>
public sealed class ContactSheet
{
    readonly List<Tile> _tiles = [];
    readonly int _columns;
    string? _title;
    int _gap = 8;
    (int Width, int Height)? _cellSize;
    int? _textScale;
    Rgb24 _background = new(255, 255, 255);

    ContactSheet(int columns) => _columns = columns;

    /// <summary>A new, empty sheet with <paramref name="columns"/> cells per row and a white background.</summary>
    public static ContactSheet Create(int columns = 4)
    {
        if (columns <= 0) throw new InvalidSettingException("A sheet needs at least one column.", nameof(columns), columns);
        return new ContactSheet(columns);
    }

    /// <summary>Adds one image ([3,H,W] or [1,3,H,W], values in [0,1]) with an optional caption.</summary>
    public ContactSheet Add(Tensor image, string? caption = null)
    {
        using var rgb = ImageIO.ToImage(image);
        return Add(rgb, caption);
    }

    /// <summary>
    /// Adds one image with an alpha channel ([1,C+1,H,W], the last channel alpha) composited over a checkerboard
    /// (<see cref="ImageOps.OverCheckerboard"/>), so its transparent parts show as such.
    /// </summary>
    public ContactSheet AddTransparent(Tensor image, string? caption = null)
    {
        using var scope = NewDisposeScope();
        return Add(ImageOps.OverCheckerboard(image.dim() == 3 ? image.unsqueeze(0) : image), caption);
    }

    /// <summary>Adds an 8-bit image with an optional caption.</summary>
    public ContactSheet Add(Image<Rgb24> image, string? caption = null)
    {
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        _tiles.Add(new Tile(pixels, image.Width, image.Height, caption ?? ""));
        return this;
    }

    /// <summary>Adds every image of an [N,3,H,W] batch; <paramref name="captions"/>, if given, has one caption each.</summary>
    public ContactSheet AddBatch(Tensor images, IReadOnlyList<string>? captions = null)
    {
        ImageIO.CheckShape(images, allowBatch: true);
        using var batch = images.dim() == 3 ? images.unsqueeze(0) : images.alias();
        long count = batch.shape[0];
        if (captions is not null && captions.Count != count)
            throw new InvalidSettingException($"{captions.Count} captions for a batch of {count} images (shape [{string.Join(",", images.shape)}]).", nameof(captions));
        for (int i = 0; i < count; i++)
        {
            using var one = batch[i];
            Add(one, captions?[i]);
        }
        return this;
    }

    /// <summary>A title drawn above the grid.</summary>
    public ContactSheet Title(string title)
    {
        _title = title;
        return this;
    }

    /// <summary>Cell size for every image; by default the widest and tallest image's size.</summary>
    public ContactSheet CellSize(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new InvalidSettingException($"A cell must be at least 1×1; got {width}×{height}.", nameof(width));
        _cellSize = (width, height);
        return this;
    }

    /// <summary>Space in pixels around and between cells (default 8).</summary>
    public ContactSheet Gap(int pixels)
    {
        if (pixels < 0) throw new InvalidSettingException("The gap cannot be negative.", nameof(pixels), pixels);
        _gap = pixels;
        return this;
    }

    /// <summary>Integer magnification of the caption font (a glyph is 5×8 pixels at 1). By default 2 when cells are
    /// at least 192 pixels wide, else 1; the title is drawn one step larger.</summary>
    public ContactSheet TextScale(int scale)
    {
        if (scale <= 0) throw new InvalidSettingException("The text scale must be at least 1.", nameof(scale), scale);
        _textScale = scale;
        return this;
    }

    /// <summary>Background colour (default white); text is dark on light backgrounds and light on dark ones.</summary>
    public ContactSheet Background(Color color)
    {
        _background = color.ToPixel<Rgb24>();
        return this;
    }

    /// <summary>A dark grey background with light text.</summary>
    public ContactSheet Dark() => Background(Color.FromRgb(30, 30, 30));

    /// <summary>Renders the sheet as an 8-bit image (the caller disposes it).</summary>
    /// <exception cref="InvalidOperationException">Nothing was added.</exception>
    public Image<Rgb24> Render()
    {
        if (_tiles.Count == 0) throw new InvalidOperationException("The contact sheet is empty; add at least one image before rendering.");
        var layout = Measure();
        var canvas = new Rgb24[layout.Width * layout.Height];
        canvas.AsSpan().Fill(_background);
        var ink = Luminance(_background) < 0.5 ? new Rgb24(230, 230, 230) : new Rgb24(25, 25, 25);

        if (_title is { Length: > 0 })
        {
            int scale = layout.TextScale + 1;
            string text = BitmapFont.Fit(_title, layout.Width - 2 * _gap, scale);
            BitmapFont.Draw(canvas, layout.Width, text, (layout.Width - BitmapFont.Measure(text, scale)) / 2, _gap, scale, ink);
        }
        for (int i = 0; i < _tiles.Count; i++)
        {
            int left = _gap + i % layout.Columns * (layout.CellWidth + _gap);
            int top = _gap + layout.TitleBand + i / layout.Columns * (layout.CellHeight + layout.CaptionBand + _gap);
            DrawTile(canvas, layout, _tiles[i], left, top);
            string caption = BitmapFont.Fit(_tiles[i].Caption, layout.CellWidth, layout.TextScale);
            int captionLeft = left + (layout.CellWidth - BitmapFont.Measure(caption, layout.TextScale)) / 2;
            BitmapFont.Draw(canvas, layout.Width, caption, captionLeft, top + layout.CellHeight + 2 * layout.TextScale, layout.TextScale, ink);
        }
        return Image.LoadPixelData<Rgb24>(canvas, layout.Width, layout.Height);
    }

    /// <summary>Renders the sheet as a [1,3,H,W] tensor.</summary>
    public Tensor RenderTensor()
    {
        using var image = Render();
        return ImageIO.FromImage(image);
    }

    /// <summary>Renders the sheet and saves it atomically as PNG, JPEG or WebP (by extension).</summary>
    public void Save(string path, int quality = ImageIO.DefaultQuality)
    {
        using var image = Render();
        ImageIO.Save(image, path, quality);
    }

    /// <summary>Where things go: the grid, the cell size and the bands reserved for title and captions.</summary>
    internal Layout Measure()
    {
        int cellWidth = _cellSize?.Width ?? _tiles.Max(t => t.Width);
        int cellHeight = _cellSize?.Height ?? _tiles.Max(t => t.Height);
        int textScale = _textScale ?? (cellWidth >= 192 ? 2 : 1);
        int captionBand = _tiles.Any(t => t.Caption.Length > 0) ? (BitmapFont.GlyphHeight + 2) * textScale : 0;
        int titleBand = _title is { Length: > 0 } ? BitmapFont.GlyphHeight * (textScale + 1) + _gap : 0;
        int columns = Math.Min(_columns, _tiles.Count);
        int rows = (_tiles.Count + columns - 1) / columns;
        return new Layout(columns, rows, cellWidth, cellHeight, textScale, captionBand, titleBand,
            Width: _gap + columns * (cellWidth + _gap),
            Height: _gap + titleBand + rows * (cellHeight + captionBand + _gap));
    }

    void DrawTile(Rgb24[] canvas, Layout layout, Tile tile, int left, int top)
    {
        double scale = Math.Min((double)layout.CellWidth / tile.Width, (double)layout.CellHeight / tile.Height);
        int width = Math.Clamp((int)Math.Round(tile.Width * scale), 1, layout.CellWidth);
        int height = Math.Clamp((int)Math.Round(tile.Height * scale), 1, layout.CellHeight);
        var pixels = tile.Pixels;
        if (width != tile.Width || height != tile.Height)
        {
            using var image = Image.LoadPixelData<Rgb24>(tile.Pixels, tile.Width, tile.Height);
            image.Mutate(x => x.Resize(width, height, KnownResamplers.Bicubic));
            pixels = new Rgb24[width * height];
            image.CopyPixelDataTo(pixels);
        }
        int x0 = left + (layout.CellWidth - width) / 2, y0 = top + (layout.CellHeight - height) / 2;
        for (int y = 0; y < height; y++)
            pixels.AsSpan(y * width, width).CopyTo(canvas.AsSpan((y0 + y) * layout.Width + x0, width));
    }

    static double Luminance(Rgb24 c) => (0.299 * c.R + 0.587 * c.G + 0.114 * c.B) / 255;

    readonly record struct Tile(Rgb24[] Pixels, int Width, int Height, string Caption);

    internal readonly record struct Layout(int Columns, int Rows, int CellWidth, int CellHeight, int TextScale,
        int CaptionBand, int TitleBand, int Width, int Height);
}
