using Onnx;

namespace ResearchKit.Models.Onnx;

/// <summary>One node of an ONNX graph with typed access to its attributes.</summary>
public sealed class OnnxNode
{
    readonly Dictionary<string, AttributeProto> _attributes;

    OnnxNode(OnnxNode other)
    {
        (OpType, Name, Inputs, Outputs, Opset, _attributes) = (other.OpType, other.Name, other.Inputs, other.Outputs, other.Opset, other._attributes);
        AutoPadOverride = other.AutoPadOverride;
    }

    /// <summary>A copy that runs its convolution as <paramref name="variant"/> (a convolution pruned to some outputs is a shape of its own).</summary>
    internal OnnxNode WithConvolutionVariant(Execution.ConvolutionVariant variant) => new(this) { ConvolutionVariant = variant };

    internal OnnxNode(NodeProto node, int opset)
    {
        OpType = node.OpType;
        Name = string.IsNullOrEmpty(node.Name) ? $"{node.OpType}({string.Join(",", node.Output)})" : node.Name;
        Inputs = [.. node.Input];
        Outputs = [.. node.Output];
        Opset = opset;
        _attributes = node.Attribute.ToDictionary(a => a.Name);
    }

    /// <summary>The operator, e.g. <c>Conv</c>.</summary>
    public string OpType { get; }

    /// <summary>The node's name, or its op and outputs when it has none.</summary>
    public string Name { get; }

    /// <summary>Input value names ("" for an omitted optional input).</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Output value names.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>The default-domain opset the model imports (attribute versus input conventions differ by opset).</summary>
    public int Opset { get; }

    /// <summary>True when the attribute is present.</summary>
    public bool Has(string name) => _attributes.ContainsKey(name);

    /// <summary>An integer attribute.</summary>
    public long Int(string name, long fallback) => _attributes.TryGetValue(name, out var a) ? a.I : fallback;

    /// <summary>A float attribute.</summary>
    public float Float(string name, float fallback) => _attributes.TryGetValue(name, out var a) ? a.F : fallback;

    /// <summary>A string attribute.</summary>
    public string String(string name, string fallback) =>
        name == "auto_pad" && AutoPadOverride is { } autoPad ? autoPad
        : _attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : fallback;

    /// <summary>Padding rule that replaces the file's explicit pads (see <see cref="OnnxModel"/> on CNTK exports).</summary>
    internal string? AutoPadOverride { get; set; }

    /// <summary>How a convolution departs from the model's execution mode (see <see cref="Execution.ConvolutionAudit"/>).</summary>
    internal Execution.ConvolutionVariant ConvolutionVariant { get; set; }

    /// <summary>An integer-list attribute, or null when absent.</summary>
    public long[]? Ints(string name) => _attributes.TryGetValue(name, out var a) ? [.. a.Ints] : null;

    /// <summary>A float-list attribute, or null when absent.</summary>
    public float[]? Floats(string name) => _attributes.TryGetValue(name, out var a) ? [.. a.Floats] : null;

    /// <summary>A tensor attribute, or null when absent.</summary>
    public TensorProto? TensorAttribute(string name) => _attributes.TryGetValue(name, out var a) ? a.T : null;

    /// <inheritdoc/>
    public override string ToString() => $"{OpType} node '{Name}'";
}
