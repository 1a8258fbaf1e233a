using ResearchKit.Models;
using ResearchKit.Optimization;
using ResearchKit.Priors;

namespace ResearchKit.Rendering;

/// <summary>
/// What a render did, written as JSON next to its image with its <see cref="IO.Provenance"/> (model, kernels, device,
/// seed, versions) so the image can be made again: same settings and seed give the same bytes.
/// </summary>
public sealed record RenderSettings
{
    /// <summary>The objective in words (and the shorthand when it came from one).</summary>
    public required string Objective { get; init; }
    /// <summary>The penalties subtracted from it, in words; null for none.</summary>
    public string? Penalties { get; init; }
    /// <summary>Prior preset the render started from, if any.</summary>
    public string? Preset { get; init; }
    /// <summary>Parameterization in words.</summary>
    public required string Parameterization { get; init; }
    /// <summary>Robustness transforms in words.</summary>
    public required string Transforms { get; init; }
    /// <summary>Step priors with their settings.</summary>
    public required IReadOnlyList<StepPrior> Priors { get; init; }
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
    /// <summary>When the redirected ReLU gradient applied.</summary>
    public ReluRedirect RedirectedRelu { get; init; }
    /// <summary>Whether the images carry an alpha channel (last), from <see cref="RenderPlan.Transparent"/>.</summary>
    public bool Transparent { get; init; }
    /// <summary>Whether the render recorded a transparency map (<see cref="RenderResult.TransparencyMap"/>).</summary>
    public bool TransparencyMap { get; init; }
    /// <summary>Gradients computed over tiles of at most this many pixels per side; null for the whole image at once.</summary>
    public int? Tile { get; init; }
}
