using ResearchKit.Models;
using static TorchSharp.torch;

namespace ResearchKit.Objectives;

/// <summary>What an objective reads: the model, the activations at the taps it asked for, and the image itself.</summary>
/// <param name="Model">The network being probed.</param>
/// <param name="Activations">Activations keyed by the tap names the objective listed in <see cref="Objective.Taps"/>.</param>
/// <param name="Image">The image as parameterized ([N,3,H,W] in [0,1]), before robustness transforms.</param>
public sealed record ObjectiveContext(Model Model, IReadOnlyDictionary<string, Tensor> Activations, Tensor Image)
{
    /// <summary>Batch size.</summary>
    public long Batch => Image.shape[0];

    /// <summary>The activation at <paramref name="tap"/>.</summary>
    public Tensor this[string tap] => Activations.TryGetValue(tap, out var t) ? t
        : throw new KeyNotFoundException($"tap '{tap}' was not computed; list it in the objective's taps");
}
