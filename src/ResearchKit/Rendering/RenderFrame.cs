using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>
/// The state of a render at one step, handed to callbacks. <see cref="Image"/> is valid only during the callback; keep
/// a picture with <see cref="CopyImage"/> (a plain <c>clone()</c> made in the callback belongs to the step's dispose
/// scope and is freed with it).
/// </summary>
/// <param name="Step">Steps done so far (1-based).</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Image">Current image(s), [N,3,H,W] in [0,1], on the CPU.</param>
/// <param name="Objective">Objective value (mean over the batch) before penalties.</param>
/// <param name="Terms">Each objective term's mean value, keyed by its description, then each prior penalty's.</param>
public sealed record RenderFrame(int Step, int TotalSteps, Tensor Image, double Objective, IReadOnlyDictionary<string, double> Terms)
{
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

    /// <summary>Objective value (mean over the batch) at each recorded step.</summary>
    public IReadOnlyList<double> Objective => _objective;

    /// <summary>Each term's value at each recorded step.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Terms =>
        _terms.ToDictionary(t => t.Key, t => (IReadOnlyList<double>)t.Value);

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

/// <summary>Why a render ended.</summary>
public enum RenderStop
{
    /// <summary>Every step ran.</summary>
    Completed,
    /// <summary>Cancelled; the image is the last completed step's.</summary>
    Cancelled,
    /// <summary>The objective or gradient became NaN or infinite; the image is the last finite one.</summary>
    NonFinite,
}
