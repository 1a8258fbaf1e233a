using System.Net;
using System.Text;

namespace ResearchKit.Charts;

/// <summary>Standalone HTML pages with plotly.js embedded: they open from disk with no network.</summary>
public static class ChartPage
{
    /// <summary>A page with a heading and the figures one below the other (element ids <c>chart-1</c>, <c>chart-2</c>, …).</summary>
    public static string Build(string title, IEnumerable<Figure> figures)
    {
        var body = new StringBuilder();
        int n = 0;
        foreach (var figure in figures)
            body.AppendLine(figure.ToHtmlFragment($"chart-{++n}"));
        return Build(title, body.ToString());
    }

    /// <summary>
    /// A page around any HTML body (for example chart fragments mixed with images); plotly.js is loaded in the head.
    /// </summary>
    public static string Build(string title, string bodyHtml) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{WebUtility.HtmlEncode(title)}}</title>
        <style>body { font-family: sans-serif; margin: 1.5em; } .researchkit-chart { max-width: 60em; }</style>
        {{PlotlyJs.LoaderHtml()}}
        </head>
        <body>
        <h1>{{WebUtility.HtmlEncode(title)}}</h1>
        {{bodyHtml}}
        </body>
        </html>
        """;
}
