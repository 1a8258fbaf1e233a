using ResearchKit.IO;

namespace ResearchKit.Interactive;

/// <summary>
/// The kit's charts for notebooks (see ResearchKit.Charts for what each shows). They are drawn by ResearchKit.Charts
/// loaded into its own AssemblyLoadContext, the one path used in a kernel and outside it. A returned
/// <see cref="ChartOutput"/> displays itself as the last value of a cell.
/// </summary>
public static class Plots
{
    /// <summary>Objective terms over the optimization steps, one line per term.</summary>
    public static ChartOutput ObjectiveCurves(string title, IReadOnlyDictionary<string, double[]> seriesByTerm, int[] steps) =>
        Make(nameof(ObjectiveCurves), title, seriesByTerm, steps);

    /// <summary>Mean activation per channel of one layer; the <paramref name="topK"/> largest highlighted.</summary>
    public static ChartOutput ChannelBars(string layer, double[] meanPerChannel, int topK) =>
        Make(nameof(ChannelBars), layer, meanPerChannel, topK);

    /// <summary>Radially averaged power spectra on log-log axes (element k: power at k cycles per image).</summary>
    public static ChartOutput RadialSpectra(IReadOnlyDictionary<string, double[]> spectrumByLabel) =>
        Make(nameof(RadialSpectra), spectrumByLabel);

    /// <summary>A heatmap of a matrix, row 0 at the top.</summary>
    public static ChartOutput Heatmap(double[,] values, string title) => Make(nameof(Heatmap), values, title);

    /// <summary>Several series against one x axis.</summary>
    public static ChartOutput Lines(
        string title, double[] x, IReadOnlyDictionary<string, double[]> seriesByName,
        string xTitle = "x", string yTitle = "y", bool logX = false, bool logY = false) =>
        Make(nameof(Lines), title, x, seriesByName, xTitle, yTitle, logX, logY);

    /// <summary>One bar per label.</summary>
    public static ChartOutput Bars(string title, string[] labels, double[] values, string valueTitle = "value") =>
        Make(nameof(Bars), title, labels, values, valueTitle);

    /// <summary>A standalone HTML page (plotly.js embedded, works offline) with the given charts one below another.</summary>
    public static string Page(string title, params ChartOutput[] charts) =>
        ChartsBridge.Shared.Page(title, charts.Select(c => c.Figure).ToArray());

    /// <summary>Writes <see cref="Page"/> to <paramref name="path"/> atomically.</summary>
    public static void SavePage(string path, string title, params ChartOutput[] charts) =>
        AtomicFile.WriteAllText(path, Page(title, charts));

    /// <summary>
    /// The script element that defines <c>window.Plotly</c> on a notebook page (about 3.6 MB). The kit's extension
    /// shows it once, in the output of the cell that loads the kit; chart outputs carry only their data.
    /// </summary>
    public static string PlotlyLoaderHtml() => ChartsBridge.Shared.PlotlyLoaderHtml();

    static ChartOutput Make(string chart, params object?[] arguments) => new(ChartsBridge.Shared.Chart(chart, arguments));
}

/// <summary>
/// A chart ready to display: each time it is formatted it becomes a fresh <c>div</c> and <c>script</c> (so the same
/// chart can be shown twice on one page) that draw with the page's plotly.js.
/// </summary>
public sealed class ChartOutput
{
    internal ChartOutput(object figure) => Figure = figure;

    /// <summary>The chart's title.</summary>
    public string Title => ChartsBridge.Shared.Title(Figure);

    /// <summary>The ResearchKit.Charts figure, an object of the isolated load context.</summary>
    internal object Figure { get; }

    /// <summary>The plotly.js figure as JSON (<c>data</c>, <c>layout</c>, <c>config</c>).</summary>
    public string FigureJson => ChartsBridge.Shared.Json(Figure);

    /// <summary>A new HTML fragment (div + script) for this chart.</summary>
    public string ToHtmlFragment(string? elementId = null) => ChartsBridge.Shared.Fragment(Figure, elementId);

    /// <inheritdoc />
    public override string ToString() => Title;
}
