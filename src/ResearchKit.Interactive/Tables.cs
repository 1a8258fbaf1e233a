using System.Collections;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;

namespace ResearchKit.Interactive;

/// <summary>
/// Compact HTML tables for sequences of records: one row per item, one column per public property, arrays shown inline
/// (<c>[1, 64, 56, 56]</c>) rather than expanded as the default formatter does.
/// </summary>
public static class Tables
{
    /// <summary>The properties that make a type a tap description (a layer one can read), shown as a table automatically.</summary>
    static readonly string[] TapProperties = ["Name", "Shape", "Channels"];

    /// <summary>Makes every <c>IEnumerable&lt;TRow&gt;</c> display as a table.</summary>
    public static void Register<TRow>() =>
        Formatter.Register<IEnumerable<TRow>>((rows, context) =>
        {
            context.Writer.Write(ToHtml(rows));
            return true;
        }, HtmlFormatter.MimeType);

    /// <summary>The rows as a table to display, e.g. the last value of a cell; works for anonymous types too.</summary>
    public static RawHtml Of<TRow>(IEnumerable<TRow> rows) => new(ToHtml(rows));

    /// <summary>The rows as an HTML table.</summary>
    public static string ToHtml<TRow>(IEnumerable<TRow> rows)
    {
        var columns = typeof(TRow).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0).OrderBy(p => p.MetadataToken).ToArray();
        var html = new StringBuilder("<table class=\"researchkit-table\"><thead><tr>");
        foreach (var column in columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var column in columns)
                html.Append("<td>").Append(WebUtility.HtmlEncode(Cell(row is null ? null : column.GetValue(row)))).Append("</td>");
            html.Append("</tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>Registers <see cref="Register{TRow}"/> for each public type of <paramref name="assembly"/> with Name, Shape and Channels properties.</summary>
    internal static void RegisterTapLikeTypes(Assembly assembly)
    {
        var register = typeof(Tables).GetMethod(nameof(Register))!;
        foreach (var type in assembly.GetExportedTypes().Where(IsTapLike))
            register.MakeGenericMethod(type).Invoke(null, null);
    }

    internal static bool IsTapLike(Type type) =>
        !type.IsGenericTypeDefinition && TapProperties.All(name => type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is not null);

    static string Cell(object? value) => value switch
    {
        null => "",
        string s => s,
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Cell)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
