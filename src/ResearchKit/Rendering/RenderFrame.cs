using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>
/// Where a run stands after a step: a render, or a run of several renders (a dream's octaves, zoom frames, the layers
/// of a comparison), whose steps are counted together.
/// </summary>
/// <param name="Step">Steps done so far in the run (1-based).</param>
/// <param name="TotalSteps">Steps in the run.</param>
/// <param name="Objective">Objective value (mean over the batch, before penalties) at this step.</param>
/// <param name="Stage">Which part of a longer run this step belongs to, e.g. <c>frame 3/10 · octave 2/4</c>; null for a single render.</param>
public sealed record RenderProgress(int Step, int TotalSteps, double Objective, string? Stage = null);

/// <summary>
/// The state of a render at one step, handed to frame callbacks. <see cref="Image"/> is valid only during the callback;
/// keep a picture with <see cref="CopyImage"/> (a plain <c>clone()</c> made in the callback belongs to the step's
/// dispose scope and is freed with it).
/// </summary>
/// <param name="Progress">Where the run stands.</param>
/// <param name="Image">Current image(s), [N,C,H,W] in [0,1], on the CPU.</param>
/// <param name="Terms">Each objective term's mean value, keyed by its description, then each penalty's.</param>
public sealed record RenderFrame(RenderProgress Progress, Tensor Image, IReadOnlyDictionary<string, double> Terms)
{
    /// <summary>Steps done so far in the run (1-based).</summary>
    public int Step => Progress.Step;

    /// <summary>Steps in the run.</summary>
    public int TotalSteps => Progress.TotalSteps;

    /// <summary>Objective value (mean over the batch, before penalties).</summary>
    public double Objective => Progress.Objective;

    /// <summary>A copy of <see cref="Image"/> that belongs to the caller and outlives the callback; dispose it when done.</summary>
    public Tensor CopyImage() => Image.detach().clone().DetachFromDisposeScope();
}

/// <summary>Values per step: the objective and each term, for curves.</summary>
public sealed class RenderHistory
{
    readonly List<int> _steps = [];
    readonly List<double> _objective = [];
    readonly Dictionary<string, List<double>> _terms = [];

    /// <summary>Step numbers recorded.</summary>
    public IReadOnlyList<int> Steps => _steps;

    /// <summary>Objective value (mean over the batch, before penalties) at each recorded step.</summary>
    public IReadOnlyList<double> Objective => _objective;

    /// <summary>Each term's value at each recorded step.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Terms =>
        _terms.ToDictionary(t => t.Key, t => (IReadOnlyList<double>)t.Value);

    /// <summary>Each term's value at the last recorded step.</summary>
    public IReadOnlyDictionary<string, double> FinalTerms => _terms.ToDictionary(t => t.Key, t => t.Value.Count > 0 ? t.Value[^1] : double.NaN);

    internal void Add(int step, double objective, IReadOnlyDictionary<string, double> terms)
    {
        _steps.Add(step);
        _objective.Add(objective);
        foreach (var (name, value) in terms)
        {
            if (!_terms.TryGetValue(name, out var list)) _terms[name] = list = [];
            list.Add(value);
        }
    }
}

/// <summary>Why a render (or a run of renders: a dream, a zoom) ended.</summary>
public enum RenderStop
{
    /// <summary>Every step ran.</summary>
    Completed,
    /// <summary>Cancelled; the image is the last completed step's.</summary>
    Cancelled,
    /// <summary>The objective or gradient became NaN or infinite; the image is the last finite one.</summary>
    NonFinite,
    /// <summary>
    /// Dead start: after the first steps the objective was still exactly 0 and no gradient had reached the parameters,
    /// because the units it reads are silent (ReLU-zero) for these images; the image is the unchanged start. Redirected
    /// ReLU gradients (<c>RenderPlan.RedirectRelu</c>) are the remedy.
    /// </summary>
    Dead,
}

/// <summary>What a stop reason means for the user, in words: for the CLI, the gallery and notebooks.</summary>
public static class RenderStopExplanation
{
    /// <summary>
    /// Why the render ended, the likely cause and the remedy; null for <see cref="RenderStop.Completed"/>.
    /// <paramref name="stepsDone"/> is the steps the render finished.
    /// </summary>
    public static string? Explain(this RenderStop stop, int stepsDone) => stop switch
    {
        RenderStop.Completed => null,
        RenderStop.Cancelled => $"cancelled after {stepsDone} steps; the image is the last finished step's",
        RenderStop.NonFinite => $"the objective or its gradient became NaN or infinite at step {stepsDone + 1}; the image is the last finite one (after {stepsDone} steps)",
        RenderStop.Dead => $"dead start: the objective stayed exactly 0 (or no gradient reached the image) for the first {stepsDone} steps, " +
            "so the units it reads are silent for this start and the image did not change. Remedies: the redirected ReLU gradient " +
            "(--redirect-relu 16, RenderPlan.RedirectRelu(ReluRedirect.Lucid); on in the lucid, maco, bilateral and pixelascent presets), " +
            "or throughout if it was already on; another seed or a larger image; a unit the network can reach through ReLUs",
        _ => stop.ToString(),
    };
}
