using System.Text.Json;
using System.Text.RegularExpressions;
using ResearchKit.Atlas;
using ResearchKit.Rendering;
using ResearchKit.Reports;

namespace ResearchKit.Tests.Reports;

/// <summary>The pages' HTML, built from hand-made records: no render runs.</summary>
public class ReportPageTests
{
    const string DeadHeadline = "dead start: the unit never fired; try redirected ReLU";

    static string[] Matches(string html, string pattern) => [.. Regex.Matches(html, pattern).Select(m => m.Groups[1].Value)];

    [Fact]
    public void The_contents_link_every_section_and_count_its_flagged_renders()
    {
        var html = new HtmlPage("gallery")
            .Section("channels", "Channels", HtmlPage.Grid([
                HtmlPage.Figure("images/a.png", "layer3 channel 7: activation 2.5", "images/a.json"),
                HtmlPage.Figure("images/b.png", "layer4 channel 9: activation 0", "images/b.json", RenderFlag.For(RenderStop.Dead, 8)),
            ]))
            .Section("priors", "Priors", HtmlPage.Figure("images/c.png", "None: activation NaN", "images/c.json", RenderFlag.For(RenderStop.NonFinite, 3)))
            .Section("dumbbell", "Dumbbell", HtmlPage.Paragraph("no images"))
            .Build();

        var toc = html[html.IndexOf("<nav class=\"toc\">", StringComparison.Ordinal)..html.IndexOf("</nav>", StringComparison.Ordinal)];
        Assert.Equal(["channels", "priors", "dumbbell"], Matches(toc, "<a href=\"#([^\"]+)\">"));
        Assert.Equal(["channels", "priors", "dumbbell"], Matches(html, "<section id=\"([^\"]+)\">"));
        Assert.Equal(["1 render flagged", "1 render flagged"], Matches(toc, "<span class=\"flag\">([^<]+)</span>"));
        Assert.Contains("2 renders on this page did not complete", html);
    }

    [Fact]
    public void A_figure_has_its_caption_under_the_image_and_its_settings_one_click_away()
    {
        var figure = HtmlPage.Figure("images/layer3-7.png", "layer3 channel 7: activation 2.5", "images/layer3-7.json");

        Assert.Matches("^<figure><a href=\"images/layer3-7.png\"><img src=\"images/layer3-7.png\"[^>]*></a>" +
            "<figcaption>layer3 channel 7: activation 2.5 · <a href=\"images/layer3-7.json\">settings</a></figcaption></figure>$", figure);
        Assert.DoesNotContain("flag", figure);
    }

    [Theory]
    [InlineData(RenderStop.Dead, DeadHeadline)]
    [InlineData(RenderStop.NonFinite, "failed: the objective became NaN or infinite")]
    [InlineData(RenderStop.Cancelled, "cancelled before the last step")]
    public void A_render_that_did_not_complete_is_flagged_over_its_image_with_the_reason(RenderStop stop, string headline)
    {
        var flag = RenderFlag.For(stop, stepsDone: 8)!;
        var figure = HtmlPage.Figure("images/x.png", "layer4 channel 9: activation 0", "images/x.json", flag);

        Assert.Equal(headline, flag.Headline);
        Assert.Equal(stop.Explain(8), flag.Explanation);
        Assert.Contains("class=\"flagged\"", figure);
        Assert.Contains($"<p class=\"flag\" title=\"{HtmlPage.Text(flag.Explanation)}\">{HtmlPage.Text(headline)}</p>", figure);
        Assert.Contains($"<summary>why</summary>{HtmlPage.Text(flag.Explanation)}</details>", figure);
        Assert.True(figure.IndexOf("class=\"flag\"", StringComparison.Ordinal) < figure.IndexOf("<img", StringComparison.Ordinal), "the flag comes before the image");
    }

    [Fact]
    public void A_completed_render_has_no_flag()
    {
        Assert.Null(RenderFlag.For(RenderStop.Completed, 100));
    }

    [Fact]
    public void The_atlas_page_flags_its_dead_and_failed_channels_and_links_every_sidecar()
    {
        var settings = new AtlasSettings("layer4", [0, 1, 2, 3], Preset: "none", Steps: 8, Height: 64, Width: 64);
        AtlasChannel Channel(int c, double activation, RenderStop stop) =>
            new(c, LayerAtlas.ImageName(c), LayerAtlas.SidecarName(c), activation, null, [], stop);
        var manifest = new AtlasManifest("resnet18", settings, ["0/1"],
            [Channel(0, 0, RenderStop.Dead), Channel(1, 54.8, RenderStop.Completed), Channel(2, double.NaN, RenderStop.NonFinite)]);
        var curves = manifest.Channels.ToDictionary(c => c.Channel, c => (IReadOnlyList<double>)[.. Enumerable.Repeat(c.FinalActivation, 8)]);

        var html = AtlasPage.Build(manifest, curves, charts: null);

        Assert.Equal(["channel-0", "channel-1", "channel-2"], Matches(html, "<figure id=\"(channel-\\d+)\""));
        Assert.Equal(["channel-0", "channel-2"], Matches(html, "<figure id=\"(channel-\\d+)\" class=\"flagged\""));
        Assert.Contains(DeadHeadline, html);
        Assert.Contains("failed: the objective became NaN or infinite", html);
        Assert.Equal(["channel-0000.json", "channel-0001.json", "channel-0002.json"], Matches(html, "· <a href=\"([^\"]+)\">settings</a>"));
        Assert.Contains("<figcaption>channel 1: 54.8 · ", html);
        Assert.Contains("2 renders flagged", html);
        Assert.Contains("Missing channels: 3", html);
        Assert.Equal(["channels", "settings"], Matches(html, "<li><a href=\"#([^\"]+)\">"));

        // The detail view reads the flag from the page's data.
        var data = Regex.Match(html, "<script type=\"application/json\" id=\"atlas-data\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        using var json = JsonDocument.Parse(data);
        var flags = json.RootElement.GetProperty("channels").EnumerateArray()
            .Select(c => c.GetProperty("flag") is { ValueKind: JsonValueKind.Object } f ? f.GetProperty("explanation").GetString() : null).ToArray();
        Assert.Equal(new[] { RenderStop.Dead.Explain(8), null, RenderStop.NonFinite.Explain(8) }, flags);
    }
}
