using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using static TorchSharp.torch;

namespace ResearchKit.Interactive;

/// <summary>
/// One notebook output that follows a running optimization: the current image, the step, the objective and its terms,
/// and a curve of the objective so far. Each <see cref="Update"/> replaces the output in place.
/// </summary>
public sealed class LiveView
{
    readonly string _title;
    readonly List<int> _steps = [];
    readonly List<double> _objective = [];
    readonly DisplayedValue _display;

    LiveView(string title)
    {
        _title = title;
        KitExtension.RegisterFormatters();
        var context = KernelInvocationContext.Current
            ?? throw new InvalidOperationException($"LiveView \"{title}\" needs a notebook kernel: start it from a cell.");
        // Displayed through the invocation context, whose DisplayedValue keeps the id that later updates refer to.
        _display = context.Display(new RawHtml(Frame($"<div>{WebUtility.HtmlEncode(title)}: waiting for the first step…</div>")), HtmlFormatter.MimeType);
    }

    /// <summary>Shows an empty view in the current cell's output; call it from a notebook cell.</summary>
    public static LiveView Start(string title) => new(title);

    /// <summary>The steps and objective values received so far.</summary>
    public IReadOnlyList<(int Step, double Objective)> History => _steps.Zip(_objective).ToArray();

    /// <summary>Replaces the view with this step's image, numbers and the objective curve so far.</summary>
    /// <param name="image">An image tensor (<c>[N,3,H,W]</c> or <c>[3,H,W]</c>, values in [0,1]).</param>
    /// <param name="terms">The objective's named terms at this step (may be empty).</param>
    public void Update(Tensor image, int step, double objective, IReadOnlyDictionary<string, double>? terms = null)
    {
        _steps.Add(step);
        _objective.Add(objective);
        var html = new StringBuilder("<div style=\"display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start;\">");
        html.Append("<div>").Append(TensorImages.ToHtml(image));
        html.Append($"<div><b>step {step}</b> · objective {Number(objective)}</div>");
        if (terms is { Count: > 0 })
        {
            html.Append("<table class=\"researchkit-terms\">");
            foreach (var (name, value) in terms)
                html.Append($"<tr><td>{WebUtility.HtmlEncode(name)}</td><td>{Number(value)}</td></tr>");
            html.Append("</table>");
        }
        html.Append("</div><div style=\"flex: 1; min-width: 320px; max-width: 640px;\">");
        var curve = Plots.ObjectiveCurves(_title, new Dictionary<string, double[]> { ["objective"] = _objective.ToArray() }, _steps.ToArray());
        html.Append(curve.ToHtmlFragment()).Append("</div></div>");
        _display.Update(new RawHtml(Frame(html.ToString())));
    }

    static string Frame(string inner) => $"<div class=\"researchkit-live\">{inner}</div>";

    static string Number(double value) => value.ToString("G5", CultureInfo.InvariantCulture);
}
