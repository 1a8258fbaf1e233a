namespace ResearchKit.Reports;

/// <summary>
/// Draws the charts of the kit's HTML reports (gallery, atlas). The core library knows nothing of plotting; the front
/// ends pass an implementation (the command line's draws with Plotly.NET, plotly.js embedded for offline pages).
/// Every method returns an HTML fragment that fills the width of its container.
/// </summary>
public interface IReportCharts
{
    /// <summary>What the page's head needs for the charts (e.g. a script element defining <c>window.Plotly</c>).</summary>
    string Script { get; }

    /// <summary>Mean activation per channel of <paramref name="layer"/> as bars, the <paramref name="topK"/> largest highlighted.</summary>
    string ChannelBars(string layer, IReadOnlyList<double> meanPerChannel, int topK);

    /// <summary>Values over optimization steps, one line per series.</summary>
    string Curves(string title, IReadOnlyDictionary<string, double[]> series, IReadOnlyList<int> steps);

    /// <summary>Radially averaged power spectra on log-log axes, one line per label (element k: k cycles per image).</summary>
    string Spectra(IReadOnlyDictionary<string, double[]> spectra);

    /// <summary>One bar per label.</summary>
    string Bars(string title, IReadOnlyList<string> labels, IReadOnlyList<double> values, string valueTitle);
}
