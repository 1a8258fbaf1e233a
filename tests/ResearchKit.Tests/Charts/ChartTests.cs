using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResearchKit.Charts;

namespace ResearchKit.Tests.Charts;

public class ChartTests
{
    static JsonNode Parse(Figure figure) => JsonNode.Parse(figure.Json)!;
    static double[] Numbers(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<double>()).ToArray();

    [Fact]
    public void Objective_curves_have_one_line_per_term_over_the_steps()
    {
        var figure = Chart.ObjectiveCurves("render", new Dictionary<string, double[]>
        {
            ["total"] = [1, 2, 4],
            ["tv"] = [0.5, 0.25, 0.125],
        }, [0, 50, 100]);

        var data = Parse(figure)["data"]!.AsArray();
        Assert.Equal(["total", "tv"], data.Select(t => t!["name"]!.GetValue<string>()));
        Assert.All(data, t => Assert.Equal([0, 50, 100], Numbers(t!["x"])));
        Assert.Equal([0.5, 0.25, 0.125], Numbers(data[1]!["y"]));
        Assert.Equal("step", Parse(figure)["layout"]!["xaxis"]!["title"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void Channel_bars_highlight_exactly_the_top_k_channels()
    {
        double[] means = [0.1, 0.9, 0.3, 0.8, 0.2, 0.7];

        var figure = Chart.ChannelBars("layer3", means, topK: 3);

        var bar = Parse(figure)["data"]![0]!;
        Assert.Equal([0, 1, 2, 3, 4, 5], Numbers(bar["x"]));
        Assert.Equal(means, Numbers(bar["y"]));
        var colours = bar["marker"]!["color"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray();
        string highlight = colours[1];
        Assert.Equal([1, 3, 5], Enumerable.Range(0, 6).Where(c => colours[c] == highlight));
        Assert.Equal(2, colours.Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => Chart.ChannelBars("layer3", means, topK: 7));
    }

    [Fact]
    public void Radial_spectra_are_log_log_and_leave_out_the_mean()
    {
        var figure = Chart.RadialSpectra(new Dictionary<string, double[]> { ["photo"] = [100, 1, 0.25, 1 / 9.0] });

        var json = Parse(figure);
        Assert.Equal("log", json["layout"]!["xaxis"]!["type"]!.GetValue<string>());
        Assert.Equal("log", json["layout"]!["yaxis"]!["type"]!.GetValue<string>());
        Assert.Equal([1, 2, 3], Numbers(json["data"]![0]!["x"]));
        Assert.Equal([1, 0.25, 1 / 9.0], Numbers(json["data"]![0]!["y"]));
    }

    [Fact]
    public void A_heatmap_keeps_rows_in_order_with_row_zero_on_top()
    {
        var figure = Chart.Heatmap(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }, "activations");

        var json = Parse(figure);
        var z = json["data"]![0]!["z"]!.AsArray();
        Assert.Equal([1, 2, 3], Numbers(z[0]));
        Assert.Equal([4, 5, 6], Numbers(z[1]));
        Assert.Equal("reversed", json["layout"]!["yaxis"]!["autorange"]!.GetValue<string>());
    }

    [Fact]
    public void Mismatched_series_are_rejected_with_their_names_and_lengths()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Chart.Lines("loss", [1, 2, 3], new Dictionary<string, double[]> { ["train"] = [1, 2, 3], ["val"] = [1] }));
        Assert.Contains("\"val\" has 1 values but x has 3", e.Message);
        Assert.Throws<ArgumentException>(() => Chart.Bars("b", ["a", "b"], [1]));
    }

    [Fact]
    public void A_fragment_draws_with_the_page_s_plotly_and_carries_no_plotly_js()
    {
        var figure = Chart.Bars("a title with </script> in it", ["x"], [1]);

        string fragment = figure.ToHtmlFragment("chart-a");

        Assert.Contains("<div id=\"chart-a\"", fragment);
        Assert.Contains("window.Plotly.newPlot('chart-a'", fragment);
        Assert.Single(Regex.Matches(fragment, "</script", RegexOptions.IgnoreCase));
        Assert.True(fragment.Length < 20_000, $"fragment is {fragment.Length} characters");
        Assert.Throws<ArgumentException>(() => figure.ToHtmlFragment("no spaces"));
    }

    [Fact]
    public void A_page_embeds_plotly_js_once_and_loads_nothing_from_the_network()
    {
        var figures = new[] { Chart.Bars("a", ["x"], [1]), Chart.Bars("b", ["y"], [2]) };

        string page = ChartPage.Build("Two charts", figures);

        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.Contains(PlotlyJs.Source[..2000], page);
        Assert.Single(Regex.Matches(page, "plotly.js v" + Regex.Escape(PlotlyJs.Version)));
        Assert.DoesNotMatch("<script[^>]*\\ssrc=", page);
        Assert.DoesNotMatch("<link[^>]*\\shref=\"?https?:", page);
        Assert.Equal(page, ChartPage.Build("Two charts", figures));
    }

    [Fact]
    public void The_bundled_plotly_js_hides_from_require_js_so_it_always_defines_window_Plotly()
    {
        string loader = PlotlyJs.LoaderHtml();
        Assert.Equal("2.28.0", PlotlyJs.Version);
        Assert.True(PlotlyJs.Source.Length > 3_000_000);
        Assert.Contains("(function (define, module, exports) {", loader);
        Assert.Single(Regex.Matches(loader, "</script", RegexOptions.IgnoreCase));
    }

    [Fact]
    public void Charts_fill_their_container_with_the_legend_in_rows_below_the_plot()
    {
        var figure = Chart.ObjectiveCurves("curves", new Dictionary<string, double[]>
        {
            ["Lucid (Olah et al. 2017): decorrelated Fourier + robustness transforms"] = [1, 2],
            ["None"] = [0, 0],
        }, [1, 2]);

        var layout = Parse(figure)["layout"]!;
        Assert.Null(layout["width"]);
        Assert.True(layout["autosize"]!.GetValue<bool>());
        Assert.Equal(360, layout["height"]!.GetValue<int>());
        Assert.Equal("h", layout["legend"]!["orientation"]!.GetValue<string>());
        Assert.Equal(("container", 0, "bottom"), (layout["legend"]!["yref"]!.GetValue<string>(), layout["legend"]!["y"]!.GetValue<int>(),
            layout["legend"]!["yanchor"]!.GetValue<string>()));
        Assert.True(Parse(figure)["config"]!["responsive"]!.GetValue<bool>());
        Assert.Contains("window.researchKitFitLegend(chart)", figure.ToHtmlFragment("c"));
        Assert.Contains("window.researchKitFitLegend = window.researchKitFitLegend || function (chart)", PlotlyJs.LoaderHtml());
    }
}
