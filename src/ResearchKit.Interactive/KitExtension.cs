using System.Net;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Interactive;

/// <summary>
/// What happens when a notebook references the ResearchKit.Interactive package (its <c>extension.dib</c> calls
/// <see cref="Load"/>): TorchSharp's natives are made loadable, formatters are registered, and plotly.js is put on the
/// page once, in the output of the loading cell, for every chart after it.
/// </summary>
public static class KitExtension
{
    static int _formattersRegistered;

    /// <summary>Prepares the kernel for ResearchKit; shows plotly.js in the current cell's output.</summary>
    public static void Load()
    {
        TorchRuntime.EnsureLoaded();
        RegisterFormatters();
        KernelInvocationContext.Current?.Display(new RawHtml(Plots.PlotlyLoaderHtml()), HtmlFormatter.MimeType);
    }

    /// <summary>
    /// Image tensors display as pictures, other tensors as text; charts as charts; sequences of tap descriptions
    /// (types with Name, Shape and Channels) as tables. Idempotent.
    /// </summary>
    public static void RegisterFormatters()
    {
        if (Interlocked.Exchange(ref _formattersRegistered, 1) == 1) return;
        RegisterHtml<Tensor>(TensorHtml);
        RegisterHtml<ChartOutput>(chart => chart.ToHtmlFragment());
        RegisterHtml<RawHtml>(raw => raw.Html);
        Tables.RegisterTapLikeTypes(typeof(TorchRuntime).Assembly);
    }

    static void RegisterHtml<T>(Func<T, string> html) =>
        Formatter.Register<T>((value, context) =>
        {
            context.Writer.Write(html(value));
            return true;
        }, HtmlFormatter.MimeType);

    /// <summary>An image tensor as <c>img</c> elements; any other tensor as its text (values when it is small).</summary>
    public static string TensorHtml(Tensor tensor)
    {
        if (tensor.IsInvalid) return "<pre>(disposed tensor)</pre>";
        if (TensorImages.IsImage(tensor)) return TensorImages.ToHtml(tensor, $"[{string.Join(", ", tensor.shape)}] {tensor.dtype}");
        var style = tensor.numel() <= 1000 ? TorchSharp.TensorStringStyle.Julia : TorchSharp.TensorStringStyle.Metadata;
        return $"<pre>{WebUtility.HtmlEncode(tensor.ToString(style))}</pre>";
    }
}

/// <summary>
/// HTML shown as it is, e.g. <c>new RawHtml($"&lt;img src=\"data:image/gif;base64,{data}\"&gt;")</c>. Use it instead of
/// the kernel's <c>HTML(...)</c>, whose ASP.NET <c>HtmlString</c> assembly version differs between the kernel and this
/// package and adds a compiler warning to the cell's output.
/// </summary>
/// <param name="Html">The markup.</param>
public sealed record RawHtml(string Html);
