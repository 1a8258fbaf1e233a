using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using static TorchSharp.torch;

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

    /// <summary>
    /// Feature inversion of <paramref name="photo"/> ([1,3,H,W] in [0,1]) at <paramref name="layer"/> (Mahendran &amp;
    /// Vedaldi 2015): a plan that renders, at the photo's size, an image whose activations match the photo's
    /// (<see cref="Objective.Inversion(Model, Tensor, string, string)"/>), under the paper's preset by default
    /// (<see cref="PriorPresets.MahendranVedaldi2015"/>: pixels from grey, no transforms, total variation and α-norm).
    /// </summary>
    public static RenderPlan Inversion(Model model, Tensor photo, string layer, string name = "photo", PriorPreset? preset = null) =>
        AtSizeOf(photo, Plan(model, Objective.Inversion(model, photo, layer, name)).WithPreset(preset ?? PriorPresets.MahendranVedaldi2015));

    /// <summary>
    /// A caricature of <paramref name="photo"/> ([1,3,H,W] in [0,1]) at <paramref name="layer"/> (Lucid's
    /// <c>caricature</c> recipe): a plan that renders, at the photo's size, an image that exaggerates what the layer
    /// sees in the photo (<see cref="Objective.Caricature(Model, Tensor, string, double, string)"/>), with Lucid's
    /// defaults by default (<see cref="PriorPresets.Lucid"/>: Fourier parameterization, decorrelated colour, the
    /// standard transforms). Lucid's recipe also subtracts a blur of the input each step, left out here; add
    /// <see cref="Objective.Blur"/> with <see cref="RenderPlan.WithPenalties"/> for it.
    /// </summary>
    public static RenderPlan Caricature(Model model, Tensor photo, string layer, double cosinePower = 1, string name = "photo", PriorPreset? preset = null) =>
        AtSizeOf(photo, Plan(model, Objective.Caricature(model, photo, layer, cosinePower, name)).WithPreset(preset ?? PriorPresets.Lucid));

    static RenderPlan AtSizeOf(Tensor photo, RenderPlan plan) => plan.Size((int)photo.shape[^2], (int)photo.shape[^1]);
}
