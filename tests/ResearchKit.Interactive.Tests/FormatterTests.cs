using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;
using ResearchKit.Native;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace ResearchKit.Interactive.Tests;

public class FormatterTests
{
    static FormatterTests()
    {
        TorchRuntime.EnsureLoaded();
        KitExtension.RegisterFormatters();
    }

    static Image<Rgb24>[] DecodeImages(string html) =>
        Regex.Matches(html, "<img src=\"data:image/png;base64,([^\"]+)\"")
            .Select(m => Image.Load<Rgb24>(Convert.FromBase64String(m.Groups[1].Value))).ToArray();

    [Fact]
    public void A_batch_of_image_tensors_displays_as_one_png_per_image_of_the_right_size_and_colour()
    {
        using var batch = zeros(2, 3, 20, 30);
        batch[0, 0] = tensor(1f);   // first image pure red
        batch[1] = tensor(0.5f);    // second image mid grey

        string html = Formatter.ToDisplayString(batch, HtmlFormatter.MimeType);

        var images = DecodeImages(html);
        Assert.Equal(2, images.Length);
        Assert.All(images, i => Assert.Equal((30, 20), (i.Width, i.Height)));
        Assert.Equal(new Rgb24(255, 0, 0), images[0][7, 11]);
        Assert.Equal(new Rgb24(128, 128, 128), images[1][29, 19]);
    }

    [Fact]
    public void A_single_image_is_clamped_to_the_unit_range_and_small_images_are_enlarged_pixelated()
    {
        using var image = stack([full(4, 5, 1.7f), full(4, 5, -0.3f), full(4, 5, 0.25f)]);

        string html = Formatter.ToDisplayString(image, HtmlFormatter.MimeType);

        var decoded = Assert.Single(DecodeImages(html));
        Assert.Equal((5, 4), (decoded.Width, decoded.Height));
        Assert.Equal(new Rgb24(255, 0, 64), decoded[2, 2]);
        Assert.Contains("width=\"128\"", html);
        Assert.Contains("image-rendering: pixelated", html);
    }

    [Fact]
    public void A_tensor_that_needs_a_gradient_displays_without_touching_the_graph()
    {
        using var image = rand(1, 3, 8, 8, generator: manual_seed(7)).requires_grad_();
        Assert.Single(DecodeImages(Formatter.ToDisplayString(image, HtmlFormatter.MimeType)));
        Assert.Null(image.grad);
    }

    [Fact]
    public void Other_tensors_display_as_text()
    {
        using var matrix = ones(2, 2);
        string html = Formatter.ToDisplayString(matrix, HtmlFormatter.MimeType);
        Assert.StartsWith("<pre>", html);
        Assert.Contains("[2x2]", html);
        Assert.DoesNotContain("<img", html);
    }

    [Fact]
    public void A_chart_displays_as_a_div_and_a_script_that_draws_it()
    {
        string html = Formatter.ToDisplayString(Plots.Bars("bars", ["x"], [1]), HtmlFormatter.MimeType);
        Assert.Matches("^<div id=\"rk-chart-[0-9a-f]{32}\" class=\"researchkit-chart\"", html);
        Assert.Contains("window.Plotly.newPlot(", html);
    }

    [Fact]
    public void Rows_of_an_anonymous_type_display_as_a_compact_table_and_raw_html_as_it_is()
    {
        var rows = new[] { new { Layer = "layer3", Shape = new[] { 1, 256 } } };
        Assert.Equal("<table class=\"researchkit-table\"><thead><tr><th>Layer</th><th>Shape</th></tr></thead><tbody>" +
            "<tr><td>layer3</td><td>[1, 256]</td></tr></tbody></table>", Formatter.ToDisplayString(Tables.Of(rows), HtmlFormatter.MimeType));
        Assert.Equal("<img src=\"data:image/gif;base64,R0lG\">", Formatter.ToDisplayString(new RawHtml("<img src=\"data:image/gif;base64,R0lG\">"), HtmlFormatter.MimeType));
    }

    public sealed record FakeTap(string Name, long[] Shape, int Channels);

    [Fact]
    public void Tap_lists_display_as_tables_with_shapes_inline()
    {
        Assert.True(Tables.IsTapLike(typeof(FakeTap)));
        Assert.False(Tables.IsTapLike(typeof(string)));
        Tables.Register<FakeTap>();
        List<FakeTap> taps = [new("layer1", [1, 64, 56, 56], 64), new("layer2 <b>", [1, 128, 28, 28], 128)];

        string html = Formatter.ToDisplayString(taps, HtmlFormatter.MimeType);

        Assert.Contains("<th>Name</th><th>Shape</th><th>Channels</th>", html);
        Assert.Contains("<tr><td>layer1</td><td>[1, 64, 56, 56]</td><td>64</td></tr>", html);
        Assert.Contains("layer2 &lt;b&gt;", html);
    }
}
