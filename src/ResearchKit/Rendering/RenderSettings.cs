using System.Reflection;
using ResearchKit.Optimization;
using ResearchKit.Priors;

namespace ResearchKit.Rendering;

/// <summary>
/// Everything that determined a render, written as JSON next to its image so the image can be made again:
/// same settings and seed give the same bytes.
/// </summary>
public sealed record RenderSettings
{
    /// <summary>Model name.</summary>
    public required string Model { get; init; }
    /// <summary>How pixels became network input.</summary>
    public required string Normalization { get; init; }
    /// <summary>The objective in words (and the shorthand when it came from one).</summary>
    public required string Objective { get; init; }
    /// <summary>Prior preset the render started from, if any.</summary>
    public string? Preset { get; init; }
    /// <summary>Parameterization in words.</summary>
    public required string Parameterization { get; init; }
    /// <summary>Robustness transforms in words.</summary>
    public required string Transforms { get; init; }
    /// <summary>Priors with their settings.</summary>
    public required IReadOnlyList<Prior> Priors { get; init; }
    /// <summary>Optimizer with its settings.</summary>
    public required OptimizerSettings Optimizer { get; init; }
    /// <summary>Image height.</summary>
    public required int Height { get; init; }
    /// <summary>Image width.</summary>
    public required int Width { get; init; }
    /// <summary>Batch size.</summary>
    public required int Batch { get; init; }
    /// <summary>Optimizer steps.</summary>
    public required int Steps { get; init; }
    /// <summary>Random seed (parameter initialization and transforms).</summary>
    public required int Seed { get; init; }
    /// <summary>Where it was computed (<see cref="RenderDevice"/>): <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>How the model's convolutions ran (<see cref="Models.Execution.ExecutionMode"/>): <c>exact</c>, <c>fast</c> or <c>bf16</c>.</summary>
    public string Kernels { get; init; } = "exact";
    /// <summary>The command line that produced the render, when there was one.</summary>
    public string? Command { get; init; }
    /// <summary>ResearchKit version.</summary>
    public string LibraryVersion { get; init; } = Version;
    /// <summary>TorchSharp version.</summary>
    public string TorchSharpVersion { get; init; } = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?";

    /// <summary>This library's informational version.</summary>
    public static string Version { get; } =
        typeof(RenderSettings).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";
}
