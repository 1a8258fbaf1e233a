using System.Diagnostics;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;

namespace ResearchKit.Rendering;

/// <summary>One preset's render of a unit and how it measures.</summary>
/// <param name="Preset">Preset name.</param>
/// <param name="Paper">Where its settings come from.</param>
/// <param name="Result">The render (owns its image).</param>
/// <param name="Objective">The objective measured on the final image, with no transforms.</param>
/// <param name="TotalVariation">Mean total variation (β = 1) of the final image: lower is smoother.</param>
/// <param name="HighFrequencyEnergy">Share of spectral power above half the Nyquist frequency: natural photos have little.</param>
/// <param name="Seconds">Wall-clock time of the render.</param>
public sealed record PriorComparisonRow(string Preset, string Paper, RenderResult Result, double Objective,
    double TotalVariation, double HighFrequencyEnergy, double Seconds);

/// <summary>Renders one objective under several prior presets with the same seed, and measures each image.</summary>
public static class PriorComparison
{
    /// <summary>
    /// Renders <paramref name="objective"/> under each preset (all of <see cref="PriorPresets.All"/> by default),
    /// with the same size and seed; <paramref name="steps"/> overrides each preset's default step count.
    /// </summary>
    public static IReadOnlyList<PriorComparisonRow> Run(Model model, Objective objective, IEnumerable<PriorPreset>? presets = null,
        int size = 224, int? steps = null, int seed = 0, Action<PriorPreset, RenderFrame>? onFrame = null, int frameInterval = 8,
        CancellationToken cancellation = default)
    {
        var rows = new List<PriorComparisonRow>();
        foreach (var preset in presets ?? PriorPresets.All)
        {
            if (cancellation.IsCancellationRequested) break;
            var plan = Render.Plan(model, objective).WithPreset(preset).Size(size).Seed(seed);
            if (steps is { } n) plan = plan.Steps(n);
            if (onFrame is not null) plan = plan.Every(frameInterval, f => onFrame(preset, f));
            var clock = Stopwatch.StartNew();
            var result = plan.Run(cancellation);
            clock.Stop();
            rows.Add(new PriorComparisonRow(preset.Name, preset.Paper, result,
                objective.Measure(model, result.Images).Average(),
                ImageStatistics.TotalVariation(result.Images, beta: 1).mean().item<float>(),
                ImageStatistics.HighFrequencyEnergy(result.Images).Average(),
                clock.Elapsed.TotalSeconds));
        }
        return rows;
    }
}
