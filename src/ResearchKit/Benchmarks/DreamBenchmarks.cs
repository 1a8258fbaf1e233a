using System.Diagnostics;
using System.Globalization;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Models;
using static TorchSharp.torch;

namespace ResearchKit.Benchmarks;

/// <summary>One benchmark measurement, with what else the machine was doing.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Settings">The dream's settings.</param>
/// <param name="Width">Image width.</param>
/// <param name="Height">Image height.</param>
/// <param name="Seconds">Wall-clock time of the dream.</param>
/// <param name="CpuSeconds">Processor time the process used during the dream (on a busy machine a fairer measure than wall-clock time).</param>
/// <param name="PeakRssBytes">The process's peak resident memory during the dream (Linux: VmHWM after resetting it; elsewhere the process's lifetime peak).</param>
/// <param name="StartRssBytes">Resident memory just before the dream (model loaded, photo made).</param>
/// <param name="LoadAverage">One-minute load average when the dream ended (Linux; NaN elsewhere).</param>
/// <param name="Threads">Threads torch computed with.</param>
public sealed record DreamMeasurement(string Name, DreamSettings Settings, int Width, int Height, double Seconds, double CpuSeconds, long PeakRssBytes,
    long StartRssBytes, double LoadAverage, int Threads)
{
    /// <summary>One line for a report.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: {Seconds:0.0} s ({CpuSeconds:0.0} s CPU), peak RSS {PeakRssBytes / 1048576.0:0} MiB (before {StartRssBytes / 1048576.0:0} MiB), load {LoadAverage:0.0} on {Environment.ProcessorCount} cores, {Threads} torch threads");
}

/// <summary>
/// Measurements for <c>researchkit bench</c>, not tests: the time of a 512² four-octave dream, and the peak memory of a
/// 4096² tiled dream (which the tiles keep near the size of a few image buffers, not the network's activations at 4096²).
/// </summary>
public static class DreamBenchmarks
{
    /// <summary>Seconds for a <paramref name="size"/>² dream of <paramref name="layer"/> with the paper's 4 octaves × 10 steps, after a small warm-up.</summary>
    public static DreamMeasurement DreamTime(Model model, int size = 512, string layer = "layer3", int? tile = null) =>
        Measure(model, $"{size}x{size} dream, {layer}, 4 octaves x 10 steps{(tile is { } t ? $", tile {t}" : "")}", size,
            new DreamSettings(layer) with { Tile = tile });

    /// <summary>
    /// Peak resident memory of a <paramref name="size"/>² dream in <paramref name="tile"/>-pixel tiles. Memory peaks in the
    /// first step of the largest octave, so a few steps per octave measure it as well as ten.
    /// </summary>
    public static DreamMeasurement TiledPeakMemory(Model model, int size = 4096, int tile = 512, string layer = "layer3", int stepsPerOctave = 2) =>
        Measure(model, $"{size}x{size} tiled dream, {layer}, tile {tile}, 4 octaves x {stepsPerOctave} steps", size,
            new DreamSettings(layer) with { Tile = tile, StepsPerOctave = stepsPerOctave });

    static DreamMeasurement Measure(Model model, string name, int size, DreamSettings settings)
    {
        using (var small = SampleImages.Load("chelsea", width: 96, height: 96))
        using (Dream.Run(model, small, settings with { Octaves = 1, StepsPerOctave = 1, Tile = null })) { }

        using var photo = Photo(size);
        GC.Collect();
        long before = Benchmarks.Measure.ResidentBytes();
        ResetPeak();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using (Dream.Run(model, photo, settings)) { }
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        return new DreamMeasurement(name, settings, size, size, seconds, cpuSeconds, Benchmarks.Measure.PeakResidentBytes(), before,
            Benchmarks.Measure.LoadAverage(), get_num_threads());
    }

    static Tensor Photo(int size)
    {
        using var chelsea = SampleImages.Load("chelsea");
        return ImageOps.Resize(chelsea, size, size);
    }

    // Writing 5 to clear_refs resets the peak (VmHWM) to the current resident size (Linux ≥ 4.0).
    static void ResetPeak()
    {
        try
        {
            if (OperatingSystem.IsLinux()) File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
