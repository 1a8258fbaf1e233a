using ResearchKit.Models;
using ResearchKit.Objectives;

namespace ResearchKit.Rendering;

/// <summary>Entry points: <c>Render.Visualize(model, "layer3:7")</c> gets a good picture in one line.</summary>
public static class Render
{
    /// <summary>A plan with Lucid's defaults, to adjust fluently before <see cref="RenderPlan.Run"/>.</summary>
    public static RenderPlan Plan(Model model, Objective objective) => new(model, objective);

    /// <summary>Renders <paramref name="objective"/> with a prior preset (Lucid's by default).</summary>
    public static RenderResult Visualize(Model model, Objective objective, string preset = "lucid", int? steps = null, int seed = 0,
        CancellationToken cancellation = default)
    {
        var plan = Plan(model, objective).WithPreset(preset).Seed(seed);
        return (steps is { } n ? plan.Steps(n) : plan).Run(cancellation);
    }
}
