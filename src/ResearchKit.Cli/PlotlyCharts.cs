using ResearchKit.Charts;
using ResearchKit.Reports;

namespace ResearchKit.Cli;

/// <summary>The reports' charts drawn with ResearchKit.Charts (Plotly.NET), plotly.js embedded so pages work offline.</summary>
sealed class PlotlyCharts : IReportCharts
{
    int _charts;

    public string Script => PlotlyJs.LoaderHtml();

    public string ChannelBars(string layer, IReadOnlyList<double> meanPerChannel, int topK) => Place(Chart.ChannelBars(layer, [.. meanPerChannel], topK));

    public string Curves(string title, IReadOnlyDictionary<string, double[]> series, IReadOnlyList<int> steps) =>
        Place(Chart.ObjectiveCurves(title, series, [.. steps]));

    public string Spectra(IReadOnlyDictionary<string, double[]> spectra) => Place(Chart.RadialSpectra(spectra));

    public string Bars(string title, IReadOnlyList<string> labels, IReadOnlyList<double> values, string valueTitle) =>
        Place(Chart.Bars(title, [.. labels], [.. values], valueTitle));

    // Ids unique within a page: the gallery's sections are built by one instance.
    string Place(Figure figure) => figure.ToHtmlFragment($"chart-{++_charts}");
}
