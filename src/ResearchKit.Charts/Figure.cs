using System.Net;

namespace ResearchKit.Charts;

/// <summary>
/// A finished chart: its plotly.js figure (<c>data</c>, <c>layout</c>, <c>config</c>) as JSON, ready to be placed in
/// a notebook output or a page.
/// </summary>
public sealed class Figure
{
    internal Figure(string title, string json)
    {
        Title = title;
        Json = json;
    }

    /// <summary>The chart's title (also the title of its standalone page).</summary>
    public string Title { get; }

    /// <summary>The plotly.js figure as JSON: an object with <c>data</c>, <c>layout</c> and <c>config</c>.</summary>
    public string Json { get; }

    /// <summary>
    /// A <c>div</c> and a <c>script</c> that draw the chart with the page's <c>window.Plotly</c>. The fragment carries no
    /// plotly.js: put <see cref="PlotlyJs.LoaderHtml"/> once on the page (before or after the fragments: charts that
    /// arrive before plotly.js wait in a queue that the loader drains).
    /// </summary>
    /// <param name="elementId">The <c>div</c>'s id; a fresh unique id when null. Ids must be unique within a page.</param>
    public string ToHtmlFragment(string? elementId = null)
    {
        string id = elementId ?? "rk-chart-" + Guid.NewGuid().ToString("N");
        if (id.Length == 0 || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"Element id \"{id}\" must be non-empty and use only ASCII letters, digits, '-' and '_'.", nameof(elementId));
        // The figure is a JSON object literal inside a script element: "</" must not close the element early.
        string figure = Json.Replace("</", "<\\/", StringComparison.Ordinal);
        return $$"""
            <div id="{{id}}" class="researchkit-chart" title="{{WebUtility.HtmlEncode(Title)}}"></div>
            <script type="text/javascript">
            (function () {
              var draw = function () {
                var figure = {{figure}};
                window.Plotly.newPlot('{{id}}', figure.data, figure.layout, figure.config)
                  .then(function (chart) { if (window.{{PlotlyJs.FitLegendName}}) window.{{PlotlyJs.FitLegendName}}(chart); });
              };
              if (window.Plotly) draw();
              else (window.{{PlotlyJs.QueueName}} = window.{{PlotlyJs.QueueName}} || []).push(draw);
            })();
            </script>
            """;
    }

    /// <summary>A complete HTML page showing this chart, with plotly.js embedded (works offline).</summary>
    public string ToHtmlPage() => ChartPage.Build(Title, [this]);
}
