using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>
/// Where a dream (or a run of dreams: zoom frames, layers of a comparison) stands after a step, as reported to
/// <see cref="IProgress{T}"/>. Numbers are 1-based.
/// </summary>
/// <param name="Frame">Which dream of the run this is (the zoom frame or the layer's position; 1 for a single dream).</param>
/// <param name="Frames">Dreams in the run.</param>
/// <param name="Octave">Octave being dreamt, smallest first.</param>
/// <param name="Octaves">Octaves per dream.</param>
/// <param name="Step">Steps done in this octave.</param>
/// <param name="StepsPerOctave">Steps per octave.</param>
/// <param name="Label">What the dream is of, e.g. the layer in a comparison; null for a single dream.</param>
public sealed record DreamProgress(int Frame, int Frames, int Octave, int Octaves, int Step, int StepsPerOctave, string? Label = null)
{
    /// <summary>Steps done in the whole run.</summary>
    public int StepsDone => ((Frame - 1) * Octaves + Octave - 1) * StepsPerOctave + Step;

    /// <summary>Steps in the whole run.</summary>
    public int TotalSteps => Frames * Octaves * StepsPerOctave;
}

/// <summary>
/// The image after one step, handed to a dream's step callback (e.g. to show the dream unfolding in a notebook).
/// <see cref="Image"/> is the live image ([1,3,h,w] at the octave's size): read it during the callback, don't keep or change it;
/// keep a picture with <see cref="CopyImage"/> (a plain <c>clone()</c> made in the callback is freed with the dream's dispose scope).
/// </summary>
/// <param name="Progress">Where the dream stands.</param>
/// <param name="Image">The image being dreamt, at the current octave's size.</param>
public sealed record DreamStep(DreamProgress Progress, Tensor Image)
{
    /// <summary>A copy of <see cref="Image"/> that belongs to the caller and outlives the callback; dispose it when done.</summary>
    public Tensor CopyImage() => Image.detach().clone().DetachFromDisposeScope();
}
