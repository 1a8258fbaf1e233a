using Onnx;

namespace ResearchKit.Models.Onnx;

/// <summary>A graph input or output as the file declares it; symbolic dimensions keep their names.</summary>
/// <param name="Name">The value's name.</param>
/// <param name="Type">Its element type, e.g. <c>float</c>.</param>
/// <param name="Shape">Its dimensions: numbers, or names for symbolic ones ("?" when unnamed).</param>
public sealed record OnnxValueInfo(string Name, string Type, IReadOnlyList<string> Shape);

/// <summary>One operator the importer lacks, with the nodes that use it.</summary>
/// <param name="Op">The operator (with its domain when not the default one).</param>
/// <param name="Nodes">Names of the nodes that use it.</param>
public sealed record UnsupportedOperator(string Op, IReadOnlyList<string> Nodes);

/// <summary>A tap worth probing first, and why.</summary>
/// <param name="Tap">The tap as a user would type it (its alias, or its raw name).</param>
/// <param name="Shape">Its shape at the declared input size.</param>
/// <param name="Reason">What it is: a named block, the end of a stage at some resolution, a transformer block, ...</param>
public sealed record SuggestedTap(string Tap, long[] Shape, string Reason);

/// <summary>
/// What an ONNX file holds, read before (and without) importing it: its inputs and outputs, opsets, operator counts, the
/// operators the importer lacks with the nodes that use them, and, when it imports, the taps worth probing first.
/// </summary>
/// <param name="File">The file.</param>
/// <param name="Producer">The exporter that wrote it (e.g. <c>pytorch 1.13.0</c>).</param>
/// <param name="Opsets">Imported operator sets by domain ("" is the default ONNX domain).</param>
/// <param name="Inputs">Graph inputs (initializers excluded).</param>
/// <param name="Outputs">Graph outputs.</param>
/// <param name="Operators">How many nodes use each operator, most used first.</param>
/// <param name="Unsupported">Operators the importer lacks.</param>
/// <param name="LoadError">Why the model does not import (null when it does).</param>
/// <param name="Taps">Suggested taps (empty when it does not import).</param>
public sealed record OnnxInspection(string File, string Producer, IReadOnlyDictionary<string, long> Opsets,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs, IReadOnlyList<KeyValuePair<string, int>> Operators,
    IReadOnlyList<UnsupportedOperator> Unsupported, string? LoadError, IReadOnlyList<SuggestedTap> Taps)
{
    /// <summary>Reads <paramref name="file"/> and tries to import it.</summary>
    /// <exception cref="ModelLoadException">The file is missing, empty, truncated or not an ONNX model.</exception>
    public static OnnxInspection Of(string file)
    {
        var proto = OnnxModel.ReadProto(file);
        var graph = proto.Graph;
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        static string OpName(NodeProto n) => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}";
        var operators = graph.Node.GroupBy(OpName).Select(g => KeyValuePair.Create(g.Key, g.Count()))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        var unsupported = graph.Node.Where(n => n.Domain is not ("" or "ai.onnx") || OnnxOps.Find(n.OpType) is null)
            .GroupBy(OpName).Select(g => new UnsupportedOperator(g.Key, [.. g.Select((n, k) => string.IsNullOrEmpty(n.Name) ? $"#{k}" : n.Name)]))
            .ToList();
        string? error = null;
        IReadOnlyList<SuggestedTap> taps = [];
        try
        {
            using var model = OnnxModel.Load(file, InputNormalization.None, execution: Execution.ExecutionMode.Exact);
            taps = Suggest(model);
        }
        catch (ModelLoadException e) { error = e.Message; }
        return new OnnxInspection(file, $"{proto.ProducerName} {proto.ProducerVersion}".Trim(),
            proto.OpsetImport.GroupBy(o => o.Domain is "ai.onnx" ? "" : o.Domain).ToDictionary(g => g.Key, g => g.Max(o => o.Version)),
            [.. graph.Input.Where(i => !initializers.Contains(i.Name)).Select(Describe)], [.. graph.Output.Select(Describe)],
            operators, unsupported, error, taps);
    }

    static OnnxValueInfo Describe(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        var type = tensor is null ? "?" : ((TensorProto.Types.DataType)tensor.ElemType).ToString().ToLowerInvariant();
        var shape = tensor?.Shape?.Dim.Select(d => d.DimValue > 0 ? d.DimValue.ToString() : d.DimParam is { Length: > 0 } p ? p : "?").ToList() ?? [];
        return new OnnxValueInfo(value.Name, type, shape);
    }

    /// <summary>
    /// Named blocks first (the importer's aliases), then, in graph order, the last feature map at each resolution (the
    /// end of a stage), the residual sums of a transformer's token sequence, and the output.
    /// </summary>
    static List<SuggestedTap> Suggest(OnnxModel model)
    {
        var taps = model.Taps();
        var byName = taps.ToDictionary(t => t.Name);
        var suggested = new Dictionary<string, string>();
        foreach (var tap in taps.Where(t => t.Aliases.Count > 0 && t.Name != model.ResolveTap("input")))
            suggested[tap.Name] = "named block";
        var maps = taps.Where(t => t.Layout.Kind == ActivationKind.FeatureMap && t.Name != model.ResolveTap("input")).ToList();
        foreach (var stage in maps.GroupBy(t => (t.Layout.Height, t.Layout.Width)))
            suggested.TryAdd(stage.Last().Name, $"end of the {stage.Key.Height}x{stage.Key.Width} stage");
        // A residual sum adds two computed token sequences (a bias or a position embedding adds a constant).
        var computed = model.TapNames.ToHashSet();
        var residual = model.Nodes.Where(n => n.OpType == "Add" && n.Inputs.All(computed.Contains)).Select(n => n.Outputs[0]).ToHashSet();
        var blocks = taps.Where(t => t.Layout.Kind == ActivationKind.Tokens && residual.Contains(t.Name)).ToList();
        for (int k = 0; k < blocks.Count; k++)
            suggested.TryAdd(blocks[k].Name, $"token sequence, residual sum {k} ({blocks[k].Layout.Height}x{blocks[k].Layout.Width} patches)");
        suggested.TryAdd(model.OutputTap, "output");
        return [.. taps.Where(t => suggested.ContainsKey(t.Name)).Select(t => new SuggestedTap(t.DisplayName, t.Shape, suggested[t.Name]))];
    }
}
