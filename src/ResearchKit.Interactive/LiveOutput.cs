using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace ResearchKit.Interactive;

/// <summary>
/// One output replaced in place as work proceeds: a progress line, the latest frame of a long run. Values are shown as
/// HTML (image tensors as pictures, charts as charts, text as text). Unlike the kernel's <c>display(...).Update(...)</c>,
/// whose updates Jupyter does not apply, its updates show in Jupyter and VS Code alike.
/// </summary>
public sealed class LiveOutput
{
    readonly DisplayedValue _display;

    LiveOutput(DisplayedValue display) => _display = display;

    /// <summary>Shows <paramref name="value"/> in the current cell's output; call it from a notebook cell.</summary>
    public static LiveOutput Show(object value)
    {
        KitExtension.RegisterFormatters();
        var context = KernelInvocationContext.Current
            ?? throw new InvalidOperationException("LiveOutput.Show needs a notebook kernel: call it from a cell.");
        return new LiveOutput(context.Display(value, HtmlFormatter.MimeType));
    }

    /// <summary>Replaces the output with <paramref name="value"/>, formatted now (a tensor may be disposed afterwards).</summary>
    public void Update(object value) => _display.Update(value);
}
