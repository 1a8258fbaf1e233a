using System.Runtime.Loader;
using System.Text.RegularExpressions;

namespace ResearchKit.Interactive.Tests;

public class IsolatedChartsTests
{
    [Fact]
    public void Charts_render_through_their_own_load_context_beside_an_older_FSharp_Core()
    {
        // What the Jupyter kernel has loaded before the kit arrives.
        var hostFSharp = typeof(Microsoft.FSharp.Core.FSharpOption<int>).Assembly;
        Assert.Equal(new Version(10, 0, 0, 0), hostFSharp.GetName().Version);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(hostFSharp));

        var chart = Plots.ChannelBars("layer3", [0.5, 2.0, 1.0, 3.0], topK: 2);

        Assert.Contains("\"type\":\"bar\"", chart.FigureJson);
        var charts = ChartsBridge.Shared.Context;
        var isolatedFSharp = Assert.Single(charts.Assemblies, a => a.GetName().Name == "FSharp.Core");
        Assert.True(isolatedFSharp.GetName().Version >= new Version(10, 1), $"isolated FSharp.Core is {isolatedFSharp.GetName().Version}");
        Assert.Contains(charts.Assemblies, a => a.GetName().Name == "Plotly.NET");
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name is "Plotly.NET" or "ResearchKit.Charts");
    }

    [Fact]
    public void Every_chart_of_the_facade_reaches_its_factory()
    {
        var series = new Dictionary<string, double[]> { ["a"] = [1, 2, 3], ["b"] = [3, 2, 1] };
        ChartOutput[] all =
        [
            Plots.ObjectiveCurves("objective", series, [0, 10, 20]),
            Plots.ChannelBars("conv1", [1, 2, 3], 1),
            Plots.RadialSpectra(series),
            Plots.Heatmap(new double[,] { { 1, 2 }, { 3, 4 } }, "map"),
            Plots.Lines("lines", [1, 2, 3], series, logY: true),
            Plots.Bars("bars", ["x", "y"], [1, 2]),
        ];
        foreach (var chart in all)
            Assert.Contains("Plotly.newPlot", chart.ToHtmlFragment());
        Assert.Contains("\"type\":\"heatmap\"", all[3].FigureJson);
    }

    [Fact]
    public void A_chart_error_surfaces_as_the_factory_s_own_exception()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Plots.Lines("lines", [1, 2, 3], new Dictionary<string, double[]> { ["short"] = [1, 2] }));
        Assert.Contains("\"short\" has 2 values but x has 3", e.Message);
    }

    [Fact]
    public void Each_display_of_a_chart_gets_its_own_element()
    {
        var chart = Plots.Bars("bars", ["x"], [1]);
        string first = chart.ToHtmlFragment(), second = chart.ToHtmlFragment();
        static string Id(string html) => Regex.Match(html, "<div id=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEqual(Id(first), Id(second));
    }

    [Fact]
    public void The_plotly_loader_and_pages_carry_plotly_js_and_reference_nothing_online()
    {
        string loader = Plots.PlotlyLoaderHtml();
        Assert.Contains("plotly.js v2.28.0", loader);
        string page = Plots.Page("Two charts", Plots.Bars("a", ["x"], [1]), Plots.Bars("b", ["y"], [2]));
        Assert.Contains("plotly.js v2.28.0", page);
        Assert.DoesNotMatch("<script[^>]*\\ssrc=", page);
        Assert.Equal(2, Regex.Count(page, "Plotly.newPlot\\('chart-\\d'"));
    }
}
