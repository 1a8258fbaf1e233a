using System.Text.Json.Nodes;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace ResearchKit.Charts;

/// <summary>
/// The kit's charts, made from plain arrays. Each returns a <see cref="Figure"/>, which becomes an HTML fragment for a
/// notebook or a standalone page.
/// </summary>
public static class Chart
{
    const int Height = 360;
    static readonly Color Plain = Color.fromHex("#9aa5b1");
    static readonly Color Highlight = Color.fromHex("#e4572e");

    /// <summary>
    /// Objective terms over the optimization steps: one line per term (for example <c>total</c>, <c>channel</c>, <c>tv</c>).
    /// </summary>
    /// <param name="seriesByTerm">Each term's value at each of <paramref name="steps"/>.</param>
    public static Figure ObjectiveCurves(string title, IReadOnlyDictionary<string, double[]> seriesByTerm, int[] steps) =>
        Lines(title, steps.Select(s => (double)s).ToArray(), seriesByTerm, xTitle: "step", yTitle: "value");

    /// <summary>
    /// Mean activation of each channel of one layer as bars; the <paramref name="topK"/> largest are highlighted.
    /// </summary>
    public static Figure ChannelBars(string layer, double[] meanPerChannel, int topK)
    {
        if (meanPerChannel.Length == 0) throw new ArgumentException($"Layer \"{layer}\" has no channel values to chart.", nameof(meanPerChannel));
        if (topK < 0 || topK > meanPerChannel.Length)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"Layer \"{layer}\" has {meanPerChannel.Length} channels; topK must be in 0..{meanPerChannel.Length}.");
        var top = Enumerable.Range(0, meanPerChannel.Length)
            .OrderByDescending(c => meanPerChannel[c]).ThenBy(c => c).Take(topK).ToHashSet();
        var colors = Enumerable.Range(0, meanPerChannel.Length).Select(c => top.Contains(c) ? Highlight : Plain);
        var bars = CSharpChart.Column<double, int, string>(
            meanPerChannel,
            Keys: Enumerable.Range(0, meanPerChannel.Length).ToArray(),
            Name: "mean activation",
            MarkerColor: Color.fromColors(colors));
        return Finish($"{layer}: mean activation per channel (top {topK} highlighted)", bars, xTitle: "channel", yTitle: "mean activation");
    }

    /// <summary>
    /// Radially averaged power spectra on log-log axes, one line per label. Element <c>k</c> of a spectrum is the power
    /// at radial frequency <c>k</c> (cycles per image); <c>k = 0</c> (the mean) has no place on a log axis and is left out.
    /// </summary>
    public static Figure RadialSpectra(IReadOnlyDictionary<string, double[]> spectrumByLabel)
    {
        if (spectrumByLabel.Count == 0) throw new ArgumentException("No spectra to chart.", nameof(spectrumByLabel));
        var lines = spectrumByLabel.Select(kv => CSharpChart.Line<int, double, string>(
            Enumerable.Range(1, Math.Max(0, kv.Value.Length - 1)).ToArray(), kv.Value.Skip(1).ToArray(), Name: kv.Key));
        return Finish("Radial power spectra", CSharpChart.Combine(lines),
            xTitle: "frequency (cycles per image)", yTitle: "power", xAxis: StyleParam.AxisType.Log, yAxis: StyleParam.AxisType.Log);
    }

    /// <summary>A heatmap of a matrix; row 0 is drawn at the top, as in an image.</summary>
    public static Figure Heatmap(double[,] values, string title)
    {
        if (values.Length == 0) throw new ArgumentException($"Heatmap \"{title}\" has no values (shape {values.GetLength(0)}x{values.GetLength(1)}).", nameof(values));
        var rows = Enumerable.Range(0, values.GetLength(0))
            .Select(r => Enumerable.Range(0, values.GetLength(1)).Select(c => values[r, c]).ToArray()).ToArray();
        var map = CSharpChart.Heatmap<double, int, int, string>(rows, ColorScale: StyleParam.Colorscale.Viridis, ReverseYAxis: true);
        return Finish(title, map, xTitle: "column", yTitle: "row");
    }

    /// <summary>Several series against one x axis, one line each.</summary>
    /// <param name="seriesByName">Each series' y values, as many as <paramref name="x"/> has.</param>
    public static Figure Lines(
        string title, double[] x, IReadOnlyDictionary<string, double[]> seriesByName,
        string xTitle = "x", string yTitle = "y", bool logX = false, bool logY = false)
    {
        if (seriesByName.Count == 0) throw new ArgumentException($"Chart \"{title}\" has no series.", nameof(seriesByName));
        foreach (var (name, y) in seriesByName)
            if (y.Length != x.Length)
                throw new ArgumentException($"Chart \"{title}\": series \"{name}\" has {y.Length} values but x has {x.Length}.", nameof(seriesByName));
        var lines = seriesByName.Select(kv => CSharpChart.Line<double, double, string>(x, kv.Value, Name: kv.Key));
        return Finish(title, CSharpChart.Combine(lines), xTitle, yTitle,
            logX ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear, logY ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear);
    }

    /// <summary>One bar per label.</summary>
    public static Figure Bars(string title, string[] labels, double[] values, string valueTitle = "value")
    {
        if (labels.Length != values.Length)
            throw new ArgumentException($"Chart \"{title}\" has {labels.Length} labels but {values.Length} values.", nameof(values));
        var bars = CSharpChart.Column<double, string, string>(values, Keys: labels, Name: valueTitle, MarkerColor: Plain);
        return Finish(title, bars, xTitle: "", yTitle: valueTitle);
    }

    static Figure Finish(
        string title, GenericChart chart, string xTitle, string yTitle,
        StyleParam.AxisType? xAxis = null, StyleParam.AxisType? yAxis = null)
    {
        chart = Plotly.NET.Chart.withTitle(title, null).Invoke(chart)
            .WithXAxisStyle<double, double, string>(TitleText: xTitle, AxisType: xAxis ?? StyleParam.AxisType.Auto)
            .WithYAxisStyle<double, double, string>(TitleText: yTitle, AxisType: yAxis ?? StyleParam.AxisType.Auto);
        var config = new Config();
        config.SetProperty("responsive", true);
        config.SetProperty("displaylogo", false);
        chart = Plotly.NET.Chart.withConfig(config).Invoke(chart);
        return new Figure(title, FullWidth(GenericChart.toJson(chart)));
    }

    /// <summary>
    /// A fixed height and no width (Plotly.NET writes 600 px), so the chart fills its container and follows resizes;
    /// the legend, if any, goes below the plot in rows as wide as the chart, where long series names fit. The fragment
    /// grows the chart by the legend's height once it is drawn (<see cref="Figure.ToHtmlFragment"/>).
    /// </summary>
    static string FullWidth(string json)
    {
        var figure = JsonNode.Parse(json)!.AsObject();
        var layout = figure["layout"]!.AsObject();
        layout.Remove("width");
        layout["height"] = Height;
        layout["autosize"] = true;
        layout["margin"] = new JsonObject { ["t"] = 60, ["b"] = BottomMargin, ["l"] = 70, ["r"] = 30 };
        layout["legend"] = new JsonObject
        {
            ["orientation"] = "h", ["xref"] = "paper", ["x"] = 0, ["xanchor"] = "left",
            ["yref"] = "container", ["y"] = 0, ["yanchor"] = "bottom",
        };
        return figure.ToJsonString();
    }

    // Under the plot: the x axis' ticks and title; a legend adds its height below them.
    const int BottomMargin = 70;
}
