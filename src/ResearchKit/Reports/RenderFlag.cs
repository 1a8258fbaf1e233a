using ResearchKit.Rendering;

namespace ResearchKit.Reports;

/// <summary>
/// How a report marks a render that did not complete: a short headline shown on the image, and the full explanation
/// (<see cref="RenderStopExplanation.Explain"/>: cause and remedy) one hover or click away.
/// </summary>
public sealed record RenderFlag(string Headline, string Explanation)
{
    /// <summary>The flag of a render that ended with <paramref name="stop"/> after <paramref name="stepsDone"/> steps; null when it completed.</summary>
    public static RenderFlag? For(RenderStop stop, int stepsDone) => stop.Explain(stepsDone) is { } explanation
        ? new RenderFlag(stop switch
        {
            RenderStop.Dead => "dead start: the unit never fired; try redirected ReLU",
            RenderStop.NonFinite => "failed: the objective became NaN or infinite",
            RenderStop.Cancelled => "cancelled before the last step",
            _ => stop.ToString(),
        }, explanation)
        : null;
}
