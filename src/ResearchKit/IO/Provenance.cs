using System.Reflection;
using ResearchKit.Models;
using ResearchKit.Rendering;

namespace ResearchKit.IO;

/// <summary>
/// Where an artifact came from, recorded in every sidecar, manifest and report the kit writes: the network and how it
/// ran, the seed, the command line and the versions. With the artifact's own settings it is enough to make the same
/// bytes again.
/// </summary>
public sealed record Provenance
{
    /// <summary>Model name.</summary>
    public required string Model { get; init; }
    /// <summary>How pixels became network input.</summary>
    public required string Normalization { get; init; }
    /// <summary>How the model's convolutions ran (<see cref="Models.Execution.ExecutionMode"/>): <c>exact</c>, <c>fast</c> or <c>bf16</c>.</summary>
    public required string Kernels { get; init; }
    /// <summary>Where it was computed (<see cref="RenderDevice"/>): <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>The seed, for artifacts that draw random numbers.</summary>
    public int? Seed { get; init; }
    /// <summary>The command line that produced it, when there was one.</summary>
    public string? Command { get; init; }
    /// <summary>ResearchKit version.</summary>
    public string LibraryVersion { get; init; } = Version;
    /// <summary>TorchSharp version.</summary>
    public string TorchSharpVersion { get; init; } = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?";

    /// <summary>The provenance of work done by <paramref name="model"/> as it is now (normalization, kernels, device).</summary>
    public static Provenance Of(Model model, int? seed = null, string? command = null) => new()
    {
        Model = model.Name,
        Normalization = model.NormalizationDescription,
        Kernels = model.Execution.Name,
        Device = RenderDevice.Of(model.Device).ToString(),
        Seed = seed,
        Command = command,
    };

    /// <summary>This library's informational version.</summary>
    public static string Version { get; } =
        typeof(Provenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";
}
