namespace ResearchKit.Models;

/// <summary>One named intermediate tensor of a model, with its shape for a given input size.</summary>
/// <param name="Name">The raw name in the model file (an ONNX value name).</param>
/// <param name="Aliases">Friendly names that resolve to this tap (e.g. <c>layer3</c>).</param>
/// <param name="Op">The operator that produces it (e.g. <c>Relu</c>).</param>
/// <param name="Shape">Shape for one input image of the size the taps were listed for, batch dimension included.</param>
/// <param name="Layout">Where its channels and positions are (a transformer's tokens have their channels last).</param>
public sealed record TapInfo(string Name, IReadOnlyList<string> Aliases, string Op, long[] Shape, ActivationLayout Layout)
{
    /// <summary>Channel count (features per position; dimension 1 of a feature map), or 0 for a scalar-per-item tap.</summary>
    public int Channels => (int)Layout.Channels;

    /// <summary>The alias a user would type, or the raw name when there is none.</summary>
    public string DisplayName => Aliases.Count > 0 ? Aliases[0] : Name;

    /// <summary>Shape as text, e.g. <c>1x256x14x14</c>.</summary>
    public string ShapeText => string.Join("x", Shape);
}
