using System.Diagnostics;
using ResearchKit.Rendering;

namespace ResearchKit.Cli;

/// <summary>
/// A progress bar on stderr: redrawn in place on a terminal, one line per tenth of the work when output is redirected
/// (CI logs stay short). As an <see cref="IProgress{T}"/> of render steps it shows the stage and the objective.
/// </summary>
sealed class ProgressBar(string label, int total) : IProgress<RenderProgress>
{
    public void Report(RenderProgress p) => Report(p.Step, $"{(p.Stage is { } stage ? stage + " " : "")}objective {p.Objective:0.###}");

    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly bool _interactive = !Console.IsErrorRedirected;
    int _lastDecile = -1;

    public void Report(int done, string detail = "")
    {
        double fraction = total == 0 ? 1 : Math.Clamp((double)done / total, 0, 1);
        var elapsed = _clock.Elapsed;
        var eta = fraction > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - fraction) / fraction) : TimeSpan.Zero;
        string text = $"{label} {done}/{total} {detail} {elapsed:mm\\:ss} elapsed, eta {eta:mm\\:ss}";
        if (_interactive)
        {
            const int width = 24;
            int filled = (int)(fraction * width);
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {text}".PadRight(Math.Max(0, Console.BufferWidth - 1)));
            if (done >= total) Console.Error.WriteLine();
        }
        else
        {
            int decile = (int)(fraction * 10);
            if (decile == _lastDecile) return;
            _lastDecile = decile;
            Console.Error.WriteLine(text);
        }
    }
}
