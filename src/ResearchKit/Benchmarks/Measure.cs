using System.Diagnostics;
using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Benchmarks;

/// <summary>Timing and memory helpers for the benchmark command (never used by tests to assert speed).</summary>
public static class Measure
{
    /// <summary>Median milliseconds of <paramref name="repeats"/> runs of <paramref name="action"/> after <paramref name="warmup"/> runs.</summary>
    public static double MedianMilliseconds(Action action, int repeats = 10, int warmup = 10)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>
    /// A differentiable forward pass to <paramref name="tap"/> of one image of the given size (autograd recording, as
    /// in a render), and with <paramref name="backward"/> the backward pass to the input after it; median of
    /// <paramref name="repeats"/> after 30 warm-up runs (oneDNN's backward kernels take dozens to settle).
    /// </summary>
    public static double PassMilliseconds(Model model, string tap, int size, bool backward = true, int repeats = 10)
    {
        using var image = rand(1, 3, size, size);
        return MedianMilliseconds(() =>
        {
            using var scope = NewDisposeScope();
            var x = image.detach().requires_grad_();
            using var pass = model.Pass();
            var y = pass.Run(x, tap);
            if (backward) y.mean().backward();
        }, repeats, warmup: 30);
    }

    /// <summary>One-minute load average (Linux), NaN where unknown: every figure is reported with it.</summary>
    public static double LoadAverage() =>
        File.Exists("/proc/loadavg")
            ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)
            : double.NaN;

    /// <summary>Resident set size of this process, in bytes (Linux: /proc/self/status VmRSS).</summary>
    public static long ResidentBytes() => ReadStatus("VmRSS:");

    /// <summary>Peak resident set size of this process so far, in bytes (Linux: VmHWM).</summary>
    public static long PeakResidentBytes() => ReadStatus("VmHWM:");

    static long ReadStatus(string key)
    {
        if (!File.Exists("/proc/self/status")) return Environment.WorkingSet;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
    }
}
