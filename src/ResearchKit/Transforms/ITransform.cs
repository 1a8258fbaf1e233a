using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace ResearchKit.Transforms;

/// <summary>
/// A random, differentiable image transformation applied before the network on every step, so that the optimized
/// image must work under small shifts, scalings and rotations (Mordvintsev et al. 2015; Olah et al. 2017).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(Pad), "pad")]
[JsonDerivedType(typeof(Jitter), "jitter")]
[JsonDerivedType(typeof(Roll), "roll")]
[JsonDerivedType(typeof(RandomScale), "scale")]
[JsonDerivedType(typeof(RandomRotate), "rotate")]
[JsonDerivedType(typeof(CropOrPad), "cropOrPad")]
[JsonDerivedType(typeof(Resize), "resize")]
[JsonDerivedType(typeof(RandomBackground), "randomBackground")]
[JsonDerivedType(typeof(TransformPipeline), "pipeline")]
public interface ITransform
{
    /// <summary>
    /// Transforms an [N,3,H,W] batch (one random draw for the whole batch). All randomness comes from
    /// <paramref name="rng"/>, so the same seed gives the same output. The result may share storage with the input.
    /// </summary>
    Tensor Apply(Tensor image, Random rng);

    /// <summary>Short text for captions and JSON, e.g. "jitter 8".</summary>
    string Describe();
}
