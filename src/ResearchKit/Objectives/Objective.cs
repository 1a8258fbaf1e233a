using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Objectives;

/// <summary>One named function of the context giving a value per batch item ([N]).</summary>
/// <param name="Description">How captions and settings name it, e.g. <c>channel layer3:7</c>.</param>
/// <param name="Taps">Taps the function reads.</param>
/// <param name="Evaluate">The function; returns a tensor of shape [N].</param>
public sealed record ObjectiveTerm(string Description, IReadOnlyList<string> Taps, Func<ObjectiveContext, Tensor> Evaluate)
{
    /// <summary>
    /// When the term reads only some channels of its one tap (a channel or neuron objective), those channels: the model
    /// may then compute only them (<see cref="Models.ModelPass.Run(Tensor, IEnumerable{string}, IReadOnlyDictionary{string, IReadOnlyList{int}})"/>),
    /// the others reading as zeros. Null when it reads the whole tap.
    /// </summary>
    public IReadOnlyList<int>? ChannelsRead { get; init; }
}

/// <summary>
/// A quantity to maximize, in the spirit of Lucid's objectives: small factories (<see cref="Channel"/>,
/// <see cref="Neuron"/>, <see cref="Layer"/>, ...) whose results compose with <c>+</c>, <c>-</c>, scalar <c>*</c> and
/// <c>/</c>, and with each other by <c>*</c> and <c>/</c>, e.g. <c>Objective.Channel("layer3", 7) - 0.1 * Objective.Diversity("layer3")</c>. The shorthand
/// <c>"layer3:7"</c> converts to a channel objective, <c>"layer3"</c> to a layer (DeepDream) objective.
/// An objective is a weighted sum of terms (a product or ratio is one term), so each term's value can be followed during a render.
/// </summary>
public sealed partial class Objective
{
    Objective(IReadOnlyList<(double Weight, ObjectiveTerm Term)> terms) => Terms = terms;

    /// <summary>Wraps a single term.</summary>
    public static Objective From(ObjectiveTerm term) => new([(1.0, term)]);

    /// <summary>A custom objective: a description, the taps it reads and a function returning one value per batch item.</summary>
    public static Objective Custom(string description, IReadOnlyList<string> taps, Func<ObjectiveContext, Tensor> evaluate) =>
        From(new ObjectiveTerm(description, taps, evaluate));

    /// <summary>The weighted terms whose sum this objective is.</summary>
    public IReadOnlyList<(double Weight, ObjectiveTerm Term)> Terms { get; }

    /// <summary>Every tap the objective reads (the model runs only as far as these).</summary>
    public IReadOnlyList<string> Taps => Terms.SelectMany(t => t.Term.Taps).Distinct().ToList();

    /// <summary>The objective in words, e.g. <c>channel layer3:7 - 0.1 × diversity layer3</c>.</summary>
    public string Description
    {
        get
        {
            var parts = new List<string>();
            foreach (var (weight, term) in Terms)
            {
                string magnitude = Math.Abs(weight) == 1 ? "" : $"{Math.Abs(weight):0.####} * ";
                string sign = weight < 0 ? "- " : parts.Count > 0 ? "+ " : "";
                parts.Add($"{sign}{magnitude}{term.Description}");
            }
            return string.Join(" ", parts);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Description;

    /// <summary>
    /// The value per image of an objective that reads no taps (a penalty such as <see cref="TotalVariation"/>), for
    /// images ([N,C,H,W] in [0,1]) with no network involved.
    /// </summary>
    /// <exception cref="InvalidOperationException">The objective reads taps; use <see cref="Measure"/> with a model.</exception>
    public Tensor EvaluateImage(Tensor image) => Taps.Count == 0
        ? Evaluate(new ObjectiveContext(null!, new Dictionary<string, Tensor>(), image))
        : throw new InvalidOperationException($"'{Description}' reads the network ({string.Join(", ", Taps)}); measure it with a model");

    /// <summary>The objective's value per batch item ([N]).</summary>
    public Tensor Evaluate(ObjectiveContext context) =>
        EvaluateTerms(context).Select((value, k) => value * Terms[k].Weight).Aggregate((a, b) => a + b);

    /// <summary>
    /// The objective's value for each image of <paramref name="images"/> ([N,3,H,W] in [0,1]), without gradients,
    /// computed where the model is.
    /// </summary>
    public double[] Measure(Models.Model model, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var onDevice = images.to(model.Device);
        var values = Evaluate(new ObjectiveContext(model, model.Run(onDevice, Taps), onDevice));
        return values.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
    }

    /// <summary>Each term's unweighted value per batch item ([N] each), in the order of <see cref="Terms"/>.</summary>
    public IReadOnlyList<Tensor> EvaluateTerms(ObjectiveContext context) =>
        Terms.Select(t => Broadcast(t.Term.Evaluate(context), context.Batch, t.Term)).ToList();

    static Tensor Broadcast(Tensor value, long batch, ObjectiveTerm term)
    {
        if (value.dim() == 0) return value.expand(batch);
        if (value.dim() == 1 && value.shape[0] == batch) return value;
        throw new InvalidOperationException($"objective '{term.Description}' returned shape [{string.Join(",", value.shape)}]; expected [{batch}] (one value per batch item)");
    }

    /// <summary>Sum of two objectives.</summary>
    public static Objective operator +(Objective a, Objective b) => new([.. a.Terms, .. b.Terms]);

    /// <summary>Difference of two objectives.</summary>
    public static Objective operator -(Objective a, Objective b) => a + (-1.0 * b);

    /// <summary>Negation.</summary>
    public static Objective operator -(Objective a) => -1.0 * a;

    /// <summary>Scales an objective.</summary>
    public static Objective operator *(double weight, Objective a) => new(a.Terms.Select(t => (t.Weight * weight, t.Term)).ToList());

    /// <summary>Scales an objective.</summary>
    public static Objective operator *(Objective a, double weight) => weight * a;

    /// <summary>Divides an objective by a scalar.</summary>
    public static Objective operator /(Objective a, double divisor) => (1.0 / divisor) * a;

    /// <summary>
    /// The product of two objectives, item by item, as one term (e.g. <c>Channel("layer3", 7) * Channel("layer3", 9)</c>:
    /// high only where both units are): its description names both factors, it reads the union of their taps, and it
    /// names the channels it reads when both factors name theirs, of one tap.
    /// </summary>
    public static Objective operator *(Objective a, Objective b) => Combined(a, "×", b, (x, y) => x * y);

    /// <summary>
    /// The ratio of two objectives, item by item, as one term (see <c>*</c>): e.g. one unit's activation relative to
    /// another's. The denominator must stay away from 0 during a render, or the render stops as non-finite.
    /// </summary>
    public static Objective operator /(Objective a, Objective b) => Combined(a, "/", b, (x, y) => x / y);

    static Objective Combined(Objective a, string symbol, Objective b, Func<Tensor, Tensor, Tensor> combine)
    {
        var taps = a.Taps.Union(b.Taps).ToList();
        var terms = a.Terms.Concat(b.Terms).Select(t => t.Term).ToList();
        IReadOnlyList<int>? channels = taps.Count == 1 && terms.All(t => t.ChannelsRead is not null && t.Taps.Count == 1)
            ? [.. terms.SelectMany(t => t.ChannelsRead!).Distinct().Order()]
            : null;
        return From(new ObjectiveTerm($"{Factor(a)} {symbol} {Factor(b)}", taps, ctx => combine(a.Evaluate(ctx), b.Evaluate(ctx)))
        {
            ChannelsRead = channels,
        });
    }

    // A factor's description, in parentheses when it is itself a sum, a weighted term, a product or a ratio.
    static string Factor(Objective o)
    {
        string text = o.Description;
        return text.StartsWith("- ") || new[] { " + ", " - ", " * ", " × ", " / " }.Any(text.Contains) ? $"({text})" : text;
    }

    /// <summary>The shorthand <c>"layer:channel"</c> (channel) or <c>"layer"</c> (layer / DeepDream).</summary>
    public static implicit operator Objective(string shorthand) => Parse(shorthand);

    /// <summary>
    /// Parses <c>"layer:channel"</c> → <see cref="Channel"/>, <c>"layer"</c> → <see cref="Layer"/>,
    /// <c>"logit:k"</c> → <see cref="ClassLogit(int, int?)"/>. A layer name may itself contain ':' only if it
    /// is not followed by a number.
    /// </summary>
    public static Objective Parse(string shorthand)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(shorthand);
        int colon = shorthand.LastIndexOf(':');
        if (colon > 0 && int.TryParse(shorthand[(colon + 1)..], out int index))
        {
            var layer = shorthand[..colon];
            return layer.Equals("logit", StringComparison.OrdinalIgnoreCase) || layer.Equals("class", StringComparison.OrdinalIgnoreCase)
                ? ClassLogit(index)
                : Channel(layer, index);
        }
        return Layer(shorthand);
    }
}
