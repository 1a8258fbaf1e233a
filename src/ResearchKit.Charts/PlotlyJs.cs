using System.Reflection;

namespace ResearchKit.Charts;

/// <summary>
/// The plotly.js that Plotly.NET bundles (an embedded resource of its assembly), so that charts work without a network.
/// </summary>
public static class PlotlyJs
{
    /// <summary>The global array where chart fragments that run before plotly.js queue their draw functions.</summary>
    internal const string QueueName = "researchKitPlotlyQueue";

    /// <summary>The global function that grows a drawn chart by its legend's height (see <see cref="Chart"/>'s layout).</summary>
    internal const string FitLegendName = "researchKitFitLegend";

    static readonly Lazy<(string Version, string Source)> Bundled = new(ReadBundled);
    static readonly Lazy<string> Loader = new(BuildLoader);

    /// <summary>The bundled plotly.js version, e.g. <c>2.28.0</c>.</summary>
    public static string Version => Bundled.Value.Version;

    /// <summary>The minified plotly.js source (about 3.6 MB).</summary>
    public static string Source => Bundled.Value.Source;

    /// <summary>
    /// A <c>script</c> element that defines <c>window.Plotly</c> unless the page already has it, then draws the charts
    /// whose fragments ran before it. Put it once per page; a second copy on the same page does nothing.
    /// </summary>
    public static string LoaderHtml() => Loader.Value;

    static string BuildLoader()
    {
        // plotly.js is a UMD bundle: on a page with require.js (Jupyter's HTML export has it) it would register an AMD
        // module instead of setting window.Plotly. Shadowing define/module/exports makes it take the global branch.
        string source = Source.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        return $$"""
            <script type="text/javascript">
            if (!window.Plotly) {
              (function (define, module, exports) {
            {{source}}
              }).call(window);
            }
            // A legend below the plot wraps into as many rows as the width needs: the chart grows by their height instead
            // of scrolling the legend or squeezing the plot, and again after every resize.
            window.{{FitLegendName}} = window.{{FitLegendName}} || function (chart) {
              var base = { height: chart.layout.height || 360, bottom: (chart.layout.margin || {}).b || 80 };
              var fit = function () {
                var entries = chart.querySelector('g.legend .scrollbox');
                var legend = entries ? Math.ceil(entries.getBBox().height) + 10 : 0;
                if (Math.abs(chart.layout.height - base.height - legend) > 1)
                  window.Plotly.relayout(chart, { height: base.height + legend, 'margin.b': base.bottom + legend });
              };
              chart.on('plotly_afterplot', fit);
              fit();
            };
            (function () {
              var queued = window.{{QueueName}} || [];
              window.{{QueueName}} = [];
              queued.forEach(function (draw) { draw(); });
            })();
            </script>
            """;
    }

    static (string, string) ReadBundled()
    {
        Assembly plotlyNet = typeof(Plotly.NET.GenericChart).Assembly;
        const string prefix = "Plotly.NET.plotly-", suffix = ".min.js";
        string name = plotlyNet.GetManifestResourceNames()
            .SingleOrDefault(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(suffix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException(
                $"{plotlyNet.GetName()} has no embedded resource {prefix}<version>{suffix}; the charts need the plotly.js it bundles.");
        using var stream = plotlyNet.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return (name[prefix.Length..^suffix.Length], reader.ReadToEnd());
    }
}
