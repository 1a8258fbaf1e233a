using System.Collections.Concurrent;
using System.Diagnostics;

namespace ResearchKit.Benchmarks;

/// <summary>
/// Moments of start-up, in seconds since the process started: the loader, the model import and the convolution audit
/// mark when they begin and end, so that <c>researchkit bench --only startup</c> can say where start-up goes.
/// </summary>
public static class Startup
{
    static readonly DateTime ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();
    static readonly ConcurrentQueue<(string Name, double Seconds)> Marks = new();

    /// <summary>Seconds since the process started.</summary>
    public static double Now() => (DateTime.UtcNow - ProcessStart).TotalSeconds;

    /// <summary>Records that <paramref name="name"/> happened now.</summary>
    public static void Mark(string name) => Marks.Enqueue((name, Now()));

    /// <summary>Every mark so far, in order.</summary>
    public static IReadOnlyList<(string Name, double Seconds)> Moments => [.. Marks];
}
