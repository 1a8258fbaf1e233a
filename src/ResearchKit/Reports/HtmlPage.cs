using System.Globalization;
using System.Net;
using System.Text;

namespace ResearchKit.Reports;

/// <summary>
/// The layout of the kit's HTML reports (the gallery, the atlas): a title, a lead paragraph, a table of contents and
/// sections, in a readable column that reflows from a laptop to a projector — images in a responsive grid with
/// captions under them, charts at the column's full width, wide tables scrolling inside their box, never the page.
/// Everything is inline, so a page opens from disk offline.
/// </summary>
public sealed class HtmlPage(string title)
{
    readonly List<(string Id, string Title, string Body)> _sections = [];
    readonly StringBuilder _head = new();
    string _lead = "";

    /// <summary>Adds to the head (e.g. a chart library's script).</summary>
    public HtmlPage Head(string html)
    {
        _head.AppendLine(html);
        return this;
    }

    /// <summary>The paragraph under the title (HTML).</summary>
    public HtmlPage Lead(string html)
    {
        _lead = html;
        return this;
    }

    /// <summary>Adds a section, listed in the table of contents.</summary>
    public HtmlPage Section(string id, string heading, string bodyHtml)
    {
        _sections.Add((id, heading, bodyHtml));
        return this;
    }

    /// <summary>The whole document.</summary>
    public string Build()
    {
        var flagged = _sections.Select(s => Flagged(s.Body)).ToList();
        var toc = _sections.Count > 1
            ? "<nav class=\"toc\"><h2>Contents</h2><ol>" + string.Concat(_sections.Select((s, i) =>
                $"<li><a href=\"#{Attr(s.Id)}\">{Text(s.Title)}</a>{(flagged[i] > 0 ? $" <span class=\"flag\">{Renders(flagged[i])} flagged</span>" : "")}</li>")) +
              "</ol></nav>"
            : "";
        var warning = flagged.Sum() is > 0 and var n
            ? Warning($"{Renders(n)} on this page did not complete; they are marked in red, with the reason over the image.")
            : "";
        var body = string.Concat(_sections.Select(s => $"<section id=\"{Attr(s.Id)}\">\n<h2>{Text(s.Title)}</h2>\n{s.Body}\n</section>\n"));
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{Text(title)}}</title>
            <style>{{Style}}</style>
            {{_head}}
            </head>
            <body>
            <main>
            <h1>{{Text(title)}}</h1>
            {{(_lead.Length > 0 ? $"<p class=\"lead\">{_lead}</p>" : "")}}
            {{warning}}
            {{toc}}
            {{body}}
            </main>
            </body>
            </html>
            """;
    }

    /// <summary>
    /// An image with its caption under it, linking <paramref name="link"/> (default: the image itself, full size).
    /// <paramref name="settings"/> links the JSON that made it; <paramref name="flag"/> marks a render that did not
    /// complete: its headline over the image, the explanation on hover and under "why".
    /// </summary>
    public static string Figure(string src, string caption, string? settings = null, RenderFlag? flag = null, bool wide = false,
        string? link = null, string? id = null)
    {
        var classes = string.Join(' ', new[] { wide ? "wide" : null, flag is null ? null : "flagged" }.OfType<string>());
        return $"<figure{(id is null ? "" : $" id=\"{Attr(id)}\"")}{(classes.Length > 0 ? $" class=\"{classes}\"" : "")}{(flag is null ? "" : " " + FlaggedAttribute)}>" +
            (flag is null ? "" : $"<p class=\"flag\" title=\"{Attr(flag.Explanation)}\">{Text(flag.Headline)}</p>") +
            $"<a href=\"{Attr(link ?? src)}\"><img src=\"{Attr(src)}\" alt=\"{Attr(caption)}\" loading=\"lazy\"></a>" +
            $"<figcaption>{Text(caption)}{(settings is null ? "" : $" · <a href=\"{Attr(settings)}\">settings</a>")}" +
            (flag is null ? "" : $"<details class=\"why\"><summary>why</summary>{Text(flag.Explanation)}</details>") +
            "</figcaption></figure>";
    }

    // Marks a flagged figure, so the page can count them in sections kept from an earlier run.
    const string FlaggedAttribute = "data-flagged";

    static int Flagged(string html) => html.Split(FlaggedAttribute).Length - 1;

    static string Renders(int n) => n == 1 ? "1 render" : $"{n} renders";

    /// <summary>Figures in a responsive grid: as many columns as fit, each at least <paramref name="minWidth"/> CSS pixels.</summary>
    public static string Grid(IEnumerable<string> figures, int minWidth = 160) =>
        $"<div class=\"grid\" style=\"--cell:{minWidth.ToString(CultureInfo.InvariantCulture)}px\">{string.Concat(figures)}</div>";

    /// <summary>A table (cells are text) that scrolls inside its own box when wider than the column.</summary>
    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows) =>
        "<div class=\"table\"><table><thead><tr>" + string.Concat(headers.Select(h => $"<th>{Text(h)}</th>")) + "</tr></thead><tbody>" +
        string.Concat(rows.Select(r => "<tr>" + string.Concat(r.Select(c => $"<td>{Text(c)}</td>")) + "</tr>")) + "</tbody></table></div>";

    /// <summary>A paragraph of text.</summary>
    public static string Paragraph(string text) => $"<p>{Text(text)}</p>";

    /// <summary>A warning box (a failed section, missing channels).</summary>
    public static string Warning(string text) => $"<p class=\"warning\">{Text(text)}</p>";

    /// <summary>Text made safe for HTML.</summary>
    public static string Text(string text) => WebUtility.HtmlEncode(text);

    static string Attr(string text) => WebUtility.HtmlEncode(text);

    // One column of at most 72em; type scales a little with the window, so a projector at 1920 px reads from the back.
    // The vertical scrollbar is always there, so charts drawn before the page grew long keep fitting the column.
    // Transparent images (RGBA) show a checkerboard through; grid cells may shrink below their content's width.
    const string Style = """
        :root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --flag: #b42318; }
        * { box-sizing: border-box; }
        html { overflow-y: scroll; }
        body { margin: 0; color: var(--ink); font: clamp(15px, 0.55vw + 10px, 20px)/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
        main { max-width: 72em; margin: 0 auto; padding: 1.2em clamp(0.8em, 3vw, 2.5em) 4em; }
        h1 { font-size: 1.9em; margin: 0.3em 0; } h2 { font-size: 1.4em; margin-top: 2em; border-bottom: 1px solid var(--line); } h3 { font-size: 1.15em; }
        .lead { color: var(--muted); font-size: 1.05em; }
        .toc ol { columns: 2 18em; padding-left: 1.2em; } .toc li { break-inside: avoid; } .toc h2 { font-size: 1.1em; border: 0; margin-top: 1em; }
        .toc .flag { display: inline; font-size: 0.85em; }
        img { max-width: 100%; height: auto; display: block; }
        figure { margin: 0 0 1em; min-width: 0; position: relative; }
        figure img { background: repeating-conic-gradient(#d5dae1 0% 25%, #fff 0% 50%) 0 0 / 16px 16px; }
        figcaption { color: var(--muted); font-size: 0.85em; margin-top: 0.3em; overflow-wrap: anywhere; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, var(--cell, 160px)), 1fr)); gap: 0.8em; }
        .grid figure { margin: 0; } .grid img { width: 100%; image-rendering: auto; }
        figure.flagged img { outline: 3px solid var(--flag); outline-offset: -3px; opacity: 0.6; }
        .flag, .warning { color: var(--flag); font-weight: 600; margin: 0 0 0.3em; }
        figure .flag { position: absolute; top: 0; left: 0; right: 0; z-index: 1; margin: 0; padding: 0.25em 0.45em; color: #fff;
          background: rgba(180, 35, 24, 0.9); font-size: 0.8em; line-height: 1.3; }
        .why summary { cursor: pointer; color: var(--flag); }
        .warning { border-left: 4px solid var(--flag); padding: 0.4em 0.8em; background: #fef3f2; }
        .table { overflow-x: auto; margin: 1em 0; }
        table { border-collapse: collapse; font-size: 0.9em; }
        th, td { border: 1px solid var(--line); padding: 0.25em 0.6em; text-align: left; }
        td:not(:first-child) { font-variant-numeric: tabular-nums; }
        .researchkit-chart { width: 100%; min-height: 360px; margin: 1em 0; }
        .verdict { font-size: 1.2em; font-weight: 700; }
        pre { background: #f5f7fa; padding: 0.6em; overflow-x: auto; font-size: 0.85em; white-space: pre-wrap; overflow-wrap: anywhere; }
        """;
}
