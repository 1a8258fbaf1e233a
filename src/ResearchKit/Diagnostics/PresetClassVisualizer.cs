using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Class visualizations rendered by the kit's engine under a prior preset, at the model's input size: the dumbbell
/// lab's visualizer. The default, <see cref="PriorPresets.PixelAscent"/>, suits the lab's small images; any preset
/// (e.g. <c>lucid</c>) fits through the same seam.
/// </summary>
/// <param name="Preset">The prior preset's name (see <see cref="PriorPresets.All"/>).</param>
/// <param name="Steps">Optimizer steps; null for the preset's default.</param>
public sealed record PresetClassVisualizer(string Preset = "PixelAscent", int? Steps = null) : IClassVisualizer
{
    /// <inheritdoc/>
    public string Description => $"class logit rendered with {PriorPresets.Get(Preset).Describe()}" +
        (Steps is { } steps ? $" (steps {steps})" : "");

    /// <inheritdoc/>
    public Tensor Visualize(Model model, int classIndex, int seed, CancellationToken cancellationToken = default)
    {
        var plan = Render.Plan(model, Objective.ClassLogit(classIndex)).WithPreset(Preset).Seed(seed);
        if (Steps is { } steps) plan = plan.Steps(steps);
        using var result = plan.Run(cancellationToken);
        if (result.Stop == RenderStop.Cancelled) throw new OperationCanceledException(cancellationToken);
        return result.Images.clone();
    }
}
