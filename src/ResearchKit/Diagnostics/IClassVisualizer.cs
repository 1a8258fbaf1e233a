using ResearchKit.Models;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Renders what a classifier takes a class to look like: the seam through which the dumbbell lab obtains its class
/// visualizations. Any activation-maximization method fits (a pixel-space ascent, the kit's renderer with priors).
/// </summary>
public interface IClassVisualizer
{
    /// <summary>The method and its settings in words (recorded in the lab's summary).</summary>
    string Description { get; }

    /// <summary>
    /// An image ([1,3,H,W], RGB in [0,1], at the model's input size) that drives class <paramref name="classIndex"/>
    /// of <paramref name="model"/>'s <c>logits</c> tap. The same seed gives the same image.
    /// </summary>
    Tensor Visualize(Model model, int classIndex, int seed, CancellationToken cancellationToken = default);
}

/// <summary>Builds an <see cref="IClassVisualizer"/> from a function.</summary>
public static class ClassVisualizer
{
    /// <summary>Wraps <paramref name="visualize"/> (model, class index, seed → [1,3,H,W] image) with a description.</summary>
    public static IClassVisualizer From(string description, Func<Model, int, int, Tensor> visualize) => new Delegating(description, visualize);

    sealed class Delegating(string description, Func<Model, int, int, Tensor> visualize) : IClassVisualizer
    {
        public string Description => description;

        public Tensor Visualize(Model model, int classIndex, int seed, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return visualize(model, classIndex, seed);
        }
    }
}
