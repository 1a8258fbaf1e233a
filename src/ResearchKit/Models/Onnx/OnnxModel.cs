using Google.Protobuf;
using Onnx;
using ResearchKit.Models.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models.Onnx;

/// <summary>
/// A network imported from an ONNX file and run as TorchSharp operations, so that it is differentiable with respect to
/// its input and every intermediate value is a tap. Accepts any input size its operators allow.
/// </summary>
public sealed class OnnxModel : Model
{
    readonly List<OnnxNode> _nodes;
    readonly Dictionary<string, Tensor> _constants;
    readonly Dictionary<string, int> _producer = [];
    readonly Dictionary<string, ExecutionPlan> _plans = [];
    readonly string _inputName;
    readonly List<string> _taps;
    // Values read as sizes (resizing scales, and everything shape arithmetic reads): they stay float32 in bfloat16
    // execution, where rounding 1.4 to bfloat16 would change an output size.
    readonly HashSet<string> _sizeValues;
    readonly string _file;
    // What the execution mode changed: constants in its precision and layout, and padded convolution weights by node.
    readonly Dictionary<string, Tensor> _prepared = [];
    readonly Dictionary<int, (Tensor Weight, Tensor? Bias)> _adaptedConvolutions = [];
    // Batch normalizations folded into the convolution before them, by normalization node: the convolution and its
    // folded weights, prepared like every other convolution's.
    readonly Dictionary<int, (int Convolution, Tensor Weight, Tensor Bias)> _folded = [];
    ExecutionMode _running = ExecutionMode.Exact;

    OnnxModel(string file, string name, ModelProto proto, Preprocessing preprocessing, InputNormalization normalization,
        (int C, int H, int W) size, string inputName)
        : base(name, size.H, size.W, preprocessing, normalization, size.C)
    {
        _file = file;
        _inputName = inputName;
        int opset = (int)(proto.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 13);
        _nodes = proto.Graph.Node.Select(n => new OnnxNode(n, opset)).ToList();
        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        var twice = proto.Graph.Initializer.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ModelLoadException($"{file}: the graph defines initializer '{twice.Key}' twice");
        _constants = proto.Graph.Initializer.ToDictionary(t => t.Name, t => OnnxTensors.ToTensor(t, file, folder).DetachFromDisposeScope());
        for (int k = 0; k < _nodes.Count; k++)
            foreach (var output in _nodes[k].Outputs.Where(o => o.Length > 0))
                _producer[output] = k;
        var unknown = _nodes.Where(n => OnnxOps.Find(n.OpType) is null).Select(n => n.OpType).Distinct().ToList();
        if (unknown.Count > 0)
            throw new UnsupportedOperatorException(
                $"{file}: unsupported ONNX operator(s) {string.Join(", ", unknown)} (in node '{_nodes.First(n => n.OpType == unknown[0]).Name}'); supported: {string.Join(", ", OnnxOps.Supported.Order())}");
        var known = new HashSet<string>(_constants.Keys) { _inputName };
        foreach (var node in _nodes)
        {
            foreach (var input in node.Inputs.Where(i => i.Length > 0 && !known.Contains(i)))
                throw new ModelLoadException(_producer.TryGetValue(input, out var k)
                    ? $"{file}: {node} is listed before the node that computes its input '{input}' ({_nodes[k]}); ONNX lists nodes in topological order"
                    : $"{file}: value '{input}' is used but neither an input, an initializer nor a node output");
            known.UnionWith(node.Outputs.Where(o => o.Length > 0));
        }
        // Taps are the values computed from the image; constants and shape arithmetic (what follows from Shape alone) are not.
        var computed = new HashSet<string> { _inputName };
        foreach (var node in _nodes.Where(n => n.OpType != "Shape" && n.Inputs.Any(computed.Contains)))
            computed.UnionWith(node.Outputs.Where(o => o.Length > 0));
        _taps = _nodes.SelectMany(n => n.Outputs.Take(1)).Where(computed.Contains).ToList();
        // Floating-point sizes are the scales of resizing and the bounds of ranges, and whatever they are computed from
        // without the image (integer shapes, like every integer, keep their type anyway).
        _sizeValues = [];
        var sizes = new Stack<string>(_nodes.SelectMany(n => n.OpType switch
        {
            "Resize" or "Upsample" => n.Inputs.Skip(1),
            "Range" => n.Inputs,
            _ => [],
        }));
        while (sizes.Count > 0)
            if (sizes.Pop() is { Length: > 0 } value && !computed.Contains(value) && _sizeValues.Add(value) && _producer.TryGetValue(value, out var k))
                foreach (var input in _nodes[k].Inputs) sizes.Push(input);
        if (_taps.Count == 0) throw new ModelLoadException($"{file}: no node computes anything from the input '{_inputName}'");
        OutputTap = proto.Graph.Output.Count > 0 ? proto.Graph.Output[0].Name : _taps[^1];
        if (!_taps.Contains(OutputTap))
            throw new ModelLoadException($"{file}: the graph's output '{OutputTap}' is not computed from the input '{_inputName}'");
        AddAlias("input", _inputName);
        AddAlias("output", OutputTap);
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string> TapNames => _taps;

    /// <inheritdoc/>
    public override string OutputTap { get; }

    /// <summary>The ONNX file the model was read from.</summary>
    public string File => _file;

    /// <summary>Shape of an initializer (weights), e.g. a convolution kernel's.</summary>
    public long[] ConstantShape(string name) => _constants.TryGetValue(name, out var t) ? t.shape
        : throw new KeyNotFoundException($"{_file}: no initializer named '{name}'");

    /// <summary>The graph's nodes in execution order.</summary>
    public IReadOnlyList<OnnxNode> Nodes => _nodes;

    /// <summary>
    /// Reads an ONNX file. <paramref name="preprocessing"/> is what the model expects (default: RGB in [0,1]);
    /// <paramref name="normalization"/> selects between it, ImageNet's convention and none.
    /// </summary>
    /// <exception cref="ModelLoadException">Missing, unreadable, truncated or inconsistent file.</exception>
    /// <exception cref="UnsupportedOperatorException">An operator the importer lacks; the message lists the supported ones.</exception>
    /// <param name="execution">How convolutions run (default <see cref="ExecutionMode.Fast"/> where the audit allows).</param>
    public static OnnxModel Load(string file, InputNormalization normalization = InputNormalization.Model,
        Preprocessing? preprocessing = null, string? name = null, ExecutionMode? execution = null)
    {
        Benchmarks.Startup.Mark($"import of {Path.GetFileName(file)} begins");
        var proto = ReadProto(file);
        var graph = proto.Graph ?? throw new ModelLoadException($"{file}: the model has no graph");
        if (graph.Node.Count == 0) throw new ModelLoadException($"{file}: the graph has no nodes");
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        var input = graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name))
            ?? throw new ModelLoadException($"{file}: the graph has no image input");
        var size = DeclaredSize(file, input);
        var model = new OnnxModel(file, name ?? Path.GetFileNameWithoutExtension(file), proto,
            preprocessing ?? Preprocessing.Identity(), normalization, size, input.Name);
        // Both steps run the graph once at its declared size: a graph that cannot is a broken file, not a bad input.
        try
        {
            if (proto.ProducerName.Contains("CNTK", StringComparison.OrdinalIgnoreCase)) model.KeepCntkSamePadding();
            model.AddStructuralAliases();
            Benchmarks.Startup.Mark("import: graph ready");
            model.UseExecution(execution ?? ExecutionMode.Fast);
            Benchmarks.Startup.Mark("import: execution prepared");
        }
        catch (ModelRunException e)
        {
            model.Dispose();
            throw new ModelLoadException($"{file}: the graph cannot run at its declared input size {size.H}x{size.W}: {e.Failure}", e);
        }
        return model;
    }

    /// <summary>The largest input (height × width) a model file may declare.</summary>
    public const long MaxDeclaredPixels = 2048L * 2048;

    /// <summary>Parses an ONNX file into its protobuf model.</summary>
    public static ModelProto ReadProto(string file)
    {
        if (!System.IO.File.Exists(file)) throw new ModelLoadException($"{file}: model file not found");
        var length = new FileInfo(file).Length;
        if (length == 0) throw new ModelLoadException($"{file}: model file is empty (0 bytes)");
        if (OtherFormat(file) is { } other) throw new ModelLoadException($"{file}: {other}");
        try
        {
            using var stream = System.IO.File.OpenRead(file);
            var proto = ModelProto.Parser.ParseFrom(stream);
            if (proto.Graph is null || proto.IrVersion == 0)
                throw new ModelLoadException($"{file}: not an ONNX model (no IR version or graph)");
            return proto;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException($"{file}: not a readable ONNX model ({e.Message})", e);
        }
    }

    // Files that are often passed for a model by mistake, told apart by their first bytes.
    static string? OtherFormat(string file)
    {
        Span<byte> head = stackalloc byte[4];
        using (var stream = System.IO.File.OpenRead(file))
            head = head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        const string export = "export the network with torch.onnx.export";
        return head switch
        {
            [(byte)'P', (byte)'K', 3, 4] => $"a zip archive (as PyTorch's torch.save writes), not an ONNX model; {export}",
            [0x80, >= 2 and <= 5, ..] => $"a Python pickle (PyTorch's legacy torch.save format), not an ONNX model; {export}",
            [0xFF, 0xD8, 0xFF, ..] => "a JPEG image, not an ONNX model",
            [0x89, (byte)'P', (byte)'N', (byte)'G'] => "a PNG image, not an ONNX model",
            _ => null,
        };
    }

    /// <summary>The largest number of input channels a model file may declare.</summary>
    public const int MaxInputChannels = 64;

    // Channels, height and width as declared; a symbolic channel count is taken for RGB and a symbolic size for 224.
    static (int C, int H, int W) DeclaredSize(string file, ValueInfoProto input)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 4)
            throw new ModelLoadException($"{file}: input '{input.Name}' is not an image batch [N,C,H,W] (declared rank {dims?.Count ?? 0})");
        long c = dims[1].DimValue > 0 ? dims[1].DimValue : 3;
        if (c > MaxInputChannels)
            throw new ModelLoadException($"{file}: input '{input.Name}' declares {c} channels; image models with 1 to {MaxInputChannels} are supported");
        long h = dims[2].DimValue > 0 ? dims[2].DimValue : 224, w = dims[3].DimValue > 0 ? dims[3].DimValue : 224;
        // Loading runs the graph once at the declared size, so the size bounds the memory a model file can demand.
        if (h > MaxDeclaredPixels || w > MaxDeclaredPixels || h * w > MaxDeclaredPixels)
            throw new ModelLoadException(
                $"{file}: input '{input.Name}' declares an absurd size {h}x{w}; at most {MaxDeclaredPixels:N0} pixels (2048x2048) are accepted");
        return ((int)c, (int)h, (int)w);
    }

    /// <inheritdoc/>
    /// <inheritdoc/>
    public override bool TakesOneSize => Taps().Any(t => t.Layout.Kind == ActivationKind.Tokens);

    public override string OpOf(string rawName) =>
        rawName == _inputName ? "Input" : _producer.TryGetValue(rawName, out var k) ? _nodes[k].OpType : "Constant";

    /// <summary>
    /// One node to run; <c>Folded</c> runs a batch normalization as its convolution with folded weights. A step that
    /// computes only some output <c>Channels</c> (null: all) runs <c>Node</c> as given (a convolution with its own
    /// variant) with some inputs replaced (<c>Replaced</c>: sliced weights or parameters) and some value inputs
    /// narrowed to those channels (<c>Narrowed</c>).
    /// </summary>
    sealed record PlanStep(int Index, bool Folded, OnnxNode Node)
    {
        public Tensor? ChannelIndex { get; set; }
        public Dictionary<int, Tensor> Replaced { get; } = [];
        public HashSet<int> Narrowed { get; } = [];
        public Dictionary<int, Tensor> Positions { get; } = [];
    }

    /// <summary>The steps that compute some taps, and after which step each value is last needed.</summary>
    sealed record ExecutionPlan(List<PlanStep> Steps, Dictionary<string, int> LastUse, Dictionary<string, (Tensor Index, long Channels)> Partial);

    /// <summary>
    /// The nodes needed for <paramref name="taps"/> in graph order. A convolution followed by a folded batch
    /// normalization is skipped and the normalization computes both, unless the convolution's output is itself a tap.
    /// Where the caller reads only some <paramref name="channels"/> of a tap, the steps before it compute only those,
    /// back through channel-wise operators to the first convolution (which then computes only those outputs).
    /// </summary>
    ExecutionPlan Plan(IReadOnlySet<string> taps, IReadOnlyDictionary<string, long[]> channels)
    {
        var key = string.Join("\n", taps.Order().Select(t => channels.TryGetValue(t, out var c) ? $"{t}:{string.Join(",", c)}" : t));
        if (_plans.TryGetValue(key, out var plan)) return plan;
        var needed = new SortedSet<int>();
        var pending = new Stack<string>(taps);
        while (pending.Count > 0)
            if (_producer.TryGetValue(pending.Pop(), out var k) && needed.Add(k))
                foreach (var input in _nodes[k].Inputs) pending.Push(input);
        var skipped = new HashSet<int>();
        var steps = new List<PlanStep>();
        foreach (var k in needed)
        {
            bool folded = _folded.TryGetValue(k, out var fold) && !taps.Contains(_nodes[fold.Convolution].Outputs[0]);
            if (folded) skipped.Add(fold.Convolution);
            steps.Add(new PlanStep(k, folded, _nodes[folded ? fold.Convolution : k]));
        }
        steps.RemoveAll(s => skipped.Contains(s.Index));
        var partial = channels.Count == 0 ? [] : PruneChannels(steps, taps, channels);
        var lastUse = new Dictionary<string, int>();
        for (int s = 0; s < steps.Count; s++)
            foreach (var input in steps[s].Node.Inputs)
                lastUse[input] = s;
        return _plans[key] = new ExecutionPlan(steps, lastUse, partial);
    }

    /// <summary>How many steps of the plan for <paramref name="taps"/> compute only some channels (for tests).</summary>
    internal int PrunedSteps(IReadOnlySet<string> taps, IReadOnlyDictionary<string, long[]> channels) =>
        Plan(taps, channels).Steps.Count(s => s.ChannelIndex is not null);

    enum ChannelRole { Other, ChannelWise, Convolution }

    // How a step relates its output channels to its inputs': channel c of the output depends on channel c of each
    // value input only (element-wise operators, batch normalization), on every input channel through channel c's
    // weights (a convolution), or on anything (everything else: computed in full).
    ChannelRole RoleOf(PlanStep step)
    {
        var node = step.Node;
        if (step.Folded || node.OpType == "Conv")
            return node.Int("group", 1) == 1 && _constants.TryGetValue(node.Inputs[1], out var w) && w.dim() == 4 ? ChannelRole.Convolution : ChannelRole.Other;
        return node.OpType switch
        {
            "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Identity" => ChannelRole.ChannelWise,
            "BatchNormalization" when node.Inputs.Skip(1).Take(4).All(_constants.ContainsKey) => ChannelRole.ChannelWise,
            // Two computed values of one shape: a residual sum, a gate.
            "Add" or "Sub" or "Mul" or "Div" when node.Inputs.Count == 2 && node.Inputs.All(i => !_constants.ContainsKey(i))
                && RunPreprocessedShapes() is var shapes && shapes.TryGetValue(node.Inputs[0], out var a) && shapes.TryGetValue(node.Inputs[1], out var b)
                && a.Length == 4 && a.SequenceEqual(b) => ChannelRole.ChannelWise,
            _ => ChannelRole.Other,
        };
    }

    /// <summary>
    /// Decides which channels each step computes, from the taps back (a value's channels are the union of what its
    /// readers need; a reader that needs all wins), and prepares the sliced weights and parameters. Returns the
    /// partially computed taps, their channel index and full channel count.
    /// </summary>
    Dictionary<string, (Tensor Index, long Channels)> PruneChannels(List<PlanStep> steps, IReadOnlySet<string> taps, IReadOnlyDictionary<string, long[]> channels)
    {
        var need = new Dictionary<string, SortedSet<long>?>();
        void Need(string value, SortedSet<long>? selection)
        {
            if (!need.TryGetValue(value, out var existing)) need[value] = selection is null ? null : new SortedSet<long>(selection);
            else if (existing is not null) { if (selection is null) need[value] = null; else existing.UnionWith(selection); }
        }
        foreach (var tap in taps) Need(tap, channels.TryGetValue(tap, out var c) ? new SortedSet<long>(c) : null);
        var computed = new Dictionary<string, long[]>();
        for (int s = steps.Count - 1; s >= 0; s--)
        {
            var step = steps[s];
            var outputs = _nodes[step.Index].Outputs.Where(o => o.Length > 0).ToList();
            var role = outputs.Count == 1 ? RoleOf(step) : ChannelRole.Other;
            var selection = role != ChannelRole.Other && need.GetValueOrDefault(outputs[0]) is { } wanted ? wanted.ToArray() : null;
            foreach (var input in step.Node.Inputs.Where(i => i.Length > 0 && !_constants.ContainsKey(i)))
                Need(input, role == ChannelRole.ChannelWise ? (selection is null ? null : new SortedSet<long>(selection)) : null);
            if (selection is null) continue;
            computed[outputs[0]] = selection;
            steps[s] = step = step with { Node = role == ChannelRole.Convolution ? PrunedConvolution(step, selection) : step.Node };
            step.ChannelIndex = tensor(selection, device: Device).DetachFromDisposeScope();
            if (role == ChannelRole.Convolution) PrepareConvolutionSlice(step, selection);
            else
            {
                if (step.Node.OpType == "BatchNormalization")
                    for (int i = 1; i <= 4; i++) step.Replaced[i] = Constant(step.Node.Inputs[i]).index_select(0, step.ChannelIndex).DetachFromDisposeScope();
                for (int i = 0; i < step.Node.Inputs.Count; i++)
                    if (!_constants.ContainsKey(step.Node.Inputs[i]) && !(i >= 1 && step.Node.OpType == "BatchNormalization")) step.Narrowed.Add(i);
            }
        }
        // A value input that its producer computed for some channels only (a superset: what all its readers need) is
        // narrowed by position within those.
        foreach (var step in steps.Where(s => s.ChannelIndex is not null))
            foreach (var i in step.Narrowed.ToList())
                if (computed.TryGetValue(step.Node.Inputs[i], out var arrived))
                {
                    var wanted = computed[_nodes[step.Index].Outputs[0]];
                    step.Narrowed.Remove(i);
                    if (!arrived.SequenceEqual(wanted))
                        step.Positions[i] = tensor(wanted.Select(c => (long)Array.IndexOf(arrived, c)).ToArray(), device: Device).DetachFromDisposeScope();
                }
        var shapes = RunPreprocessedShapes();
        return taps.Where(computed.ContainsKey).ToDictionary(t => t,
            t => (tensor(computed[t], device: Device).DetachFromDisposeScope(), shapes[t][1]));
    }

    // The convolution restricted to some output channels is a shape of its own, audited like every other.
    OnnxNode PrunedConvolution(PlanStep step, long[] selection)
    {
        if (!_running.OneDnn) return step.Node;
        var shape = ConvolutionShapeOf(step.Node, RunPreprocessedShapes())! with { OutChannels = selection.Length };
        var check = ConvolutionAudit.FindCorrectVariants([shape], _running)[shape];
        return step.Node.WithConvolutionVariant(check.Passed ? check.Variant : ConvolutionVariant.ReferenceKernels);
    }

    void PrepareConvolutionSlice(PlanStep step, long[] selection)
    {
        using var scope = NewDisposeScope();
        var node = step.Node;
        var dtype = _running.Precision == NumericPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var (weight, bias) = step.Folded ? FoldedWeights(step.Index, _folded[step.Index].Convolution, dtype)
            : (Constant(node.Inputs[1]), node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Constant(node.Inputs[2]) : null);
        var index = step.ChannelIndex!;
        var (w, b) = Convolution.Adapt(weight.index_select(0, index), bias?.index_select(0, index), node.ConvolutionVariant, _running.ChannelsLast);
        step.Replaced[1] = w.DetachFromDisposeScope();
        if (b is not null) step.Replaced[2] = b.DetachFromDisposeScope();
    }

    void ClearPlans()
    {
        foreach (var plan in _plans.Values)
        {
            foreach (var step in plan.Steps)
            {
                step.ChannelIndex?.Dispose();
                foreach (var t in step.Replaced.Values.Concat(step.Positions.Values)) t.Dispose();
            }
            foreach (var (index, _) in plan.Partial.Values) index.Dispose();
        }
        _plans.Clear();
    }

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, Tensor> RunPreprocessed(Tensor input, IReadOnlySet<string> taps) =>
        RunPreprocessed(input, taps, new Dictionary<string, long[]>());

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, Tensor> RunPreprocessed(Tensor input, IReadOnlySet<string> taps, IReadOnlyDictionary<string, long[]> channels)
    {
        var (steps, lastUse, partial) = Plan(taps, channels);
        if (_running.ChannelsLast) input = Convolution.ChannelsLast(input);
        if (_running.Precision == NumericPrecision.BFloat16) input = input.to_type(ScalarType.BFloat16);
        var values = new Dictionary<string, Tensor> { [_inputName] = input };
        var results = new Dictionary<string, Tensor>();
        if (taps.Contains(_inputName)) results[_inputName] = AsFloat32(input);
        for (int s = 0; s < steps.Count; s++)
        {
            var step = steps[s];
            var node = step.Node;
            var outputNames = _nodes[step.Index].Outputs;
            var inputs = node.Inputs.Select(n => n.Length == 0 ? null : values.GetValueOrDefault(n) ?? Constant(n)).ToList();
            if (step.Folded)
            {
                var (_, weight, bias) = _folded[step.Index];
                inputs = [inputs[0], weight, bias];
            }
            else if (_adaptedConvolutions.TryGetValue(step.Index, out var adapted))
            {
                inputs[1] = adapted.Weight;
                if (adapted.Bias is not null) inputs[2] = adapted.Bias;
            }
            foreach (var (i, replacement) in step.Replaced) inputs[i] = replacement;
            foreach (var i in step.Narrowed) inputs[i] = inputs[i]!.index_select(1, step.ChannelIndex!);
            foreach (var (i, positions) in step.Positions) inputs[i] = inputs[i]!.index_select(1, positions);
            Tensor[] outputs;
            try { outputs = OnnxOps.Find(node.OpType)!(node, inputs); }
            // Kernels name the node; the file is added here.
            catch (UnsupportedOperatorException e) { throw new UnsupportedOperatorException($"{_file}: {e.Message}"); }
            catch (ModelLoadException e) { throw new ModelLoadException($"{_file}: {e.Message}", e); }
            catch (Exception e)
            {
                var shapes = string.Join(", ", inputs.Select(t => t is null ? "-" : $"[{string.Join(",", t.shape)}]"));
                // libtorch appends its C++ stack trace to messages; the first line says what went wrong.
                throw new ModelRunException(_file, $"{node} failed on inputs {shapes}: {e.Message.Split('\n')[0]}", e);
            }
            if (node.OpType is "Constant" or "ConstantOfShape" or "Range")
                outputs = [.. outputs.Select((t, o) => InRunningPrecision(OnDevice(t), outputNames[o]))];
            for (int o = 0; o < outputs.Length && o < outputNames.Count; o++)
            {
                // A kernel may hand back an input (Identity, Dropout): give it its own handle, so that freeing one
                // value never frees another (or an initializer).
                if (inputs.Any(t => ReferenceEquals(t, outputs[o]))) outputs[o] = outputs[o].alias();
                values[outputNames[o]] = outputs[o];
                if (taps.Contains(outputNames[o]))
                    results[outputNames[o]] = partial.TryGetValue(outputNames[o], out var part) ? Widened(AsFloat32(outputs[o]), part) : AsFloat32(outputs[o]);
            }
            // Free intermediates as soon as nothing downstream needs them (autograd keeps what backward needs).
            foreach (var name in node.Inputs)
                if (lastUse.GetValueOrDefault(name) == s && name != _inputName && !taps.Contains(name) && values.Remove(name, out var t))
                    t.Dispose();
        }
        return results;
    }

    // A tap computed for some channels only, at its full channel count: the channels not read are zeros.
    static Tensor Widened(Tensor value, (Tensor Index, long Channels) part)
    {
        var shape = value.shape.ToArray();
        shape[1] = part.Channels;
        return zeros(shape, value.dtype, value.device).index_copy(1, part.Index, value);
    }

    Tensor Constant(string name) => _prepared.GetValueOrDefault(name) ?? _constants[name];

    // A constant made by a node (exporters put some weights and biases in Constant nodes) gets the precision that
    // initializers get, unless it is read as a size.
    Tensor InRunningPrecision(Tensor value, string name) =>
        _running.Precision == NumericPrecision.BFloat16 && value.dtype == ScalarType.Float32 && !_sizeValues.Contains(name)
            ? value.to_type(ScalarType.BFloat16) : value;

    // Taps leave the model in float32 whatever it computes in, so objectives and images never see bfloat16.
    static Tensor AsFloat32(Tensor t) => t.dtype == ScalarType.BFloat16 ? t.to_type(ScalarType.Float32) : t;

    /// <inheritdoc/>
    protected override (ExecutionMode Granted, IReadOnlyList<string> Report) PrepareExecution(ExecutionMode mode)
    {
        ReleasePrepared();
        if (mode == ExecutionMode.Exact) return (mode, []);
        var shapes = RunPreprocessedShapes();
        var convolutions = Enumerable.Range(0, _nodes.Count).Select(k => (k, Shape: ConvolutionShapeOf(_nodes[k], shapes)))
            .Where(c => c.Shape is not null).ToDictionary(c => c.k, c => c.Shape!);
        var found = ConvolutionAudit.FindCorrectVariants(convolutions.Values, mode);
        var checks = convolutions.ToDictionary(c => c.Key, c => found[c.Value]);
        var report = checks.Values.Distinct().Select(c => $"{(c.Passed ? "ok" : "FAILED")} {c}").ToList();
        if (checks.Values.FirstOrDefault(c => !c.Passed) is { } failed)
            return (ExecutionMode.Exact, [.. report, $"{mode} refused: {failed.Shape} cannot be computed correctly by oneDNN here; using exact kernels"]);
        // Padded channels need padded weights, which only initializers can get in advance (an exporter may compute a
        // weight or bias in a node instead).
        bool IsInitializer(string name) => name.Length == 0 || _constants.ContainsKey(name);
        if (checks.FirstOrDefault(c => c.Value.Variant.PadIn + c.Value.Variant.PadOut > 0 && !_nodes[c.Key].Inputs.Skip(1).Take(2).All(IsInitializer))
            is { Value: { } unpadded })
            return (ExecutionMode.Exact, [.. report, $"{mode} refused: {unpadded.Shape} needs padded channels, but its weights are computed in the graph; using exact kernels"]);

        var dtype = mode.Precision == NumericPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        foreach (var (name, t) in _constants)
        {
            if (!t.is_floating_point() || _sizeValues.Contains(name)) continue;
            var converted = t.to_type(dtype);
            if (mode.ChannelsLast) converted = Convolution.ChannelsLast(converted);
            if (!ReferenceEquals(converted, t)) _prepared[name] = converted.DetachFromDisposeScope();
        }
        foreach (var (k, check) in checks.Where(c => !c.Value.Variant.IsPlain))
        {
            var node = _nodes[k];
            node.ConvolutionVariant = check.Variant;
            if (!node.Inputs.Skip(1).Take(2).All(IsInitializer)) continue;   // a layout-only variant: the weights stay as they are
            var (weight, bias) = (Constant(node.Inputs[1]), node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Constant(node.Inputs[2]) : null);
            var adapted = Convolution.Adapt(weight, bias, check.Variant, mode.ChannelsLast);
            // Own handles, so that releasing them never frees a constant that Adapt handed back unchanged.
            Tensor Own(Tensor t, Tensor? original) => (ReferenceEquals(t, original) ? t.alias() : t).DetachFromDisposeScope();
            _adaptedConvolutions[k] = (Own(adapted.Weight, weight), adapted.Bias is null ? null : Own(adapted.Bias, bias));
        }
        FoldNormalizations(mode, checks, dtype);
        if (_folded.Count > 0) report.Add($"{_folded.Count} batch normalizations folded into the convolutions before them");
        ClearPlans();
        _running = mode;
        return (mode, report);
    }

    /// <summary>
    /// Batch normalization at inference is y = γ (x − μ) / √(σ² + ε) + β per channel. After a convolution whose output
    /// nothing else reads, it is that convolution with its weights scaled by γ / √(σ² + ε) and its bias shifted: one
    /// kernel instead of two, forward and backward. Folds are computed in float64, then prepared like the convolution.
    /// </summary>
    void FoldNormalizations(ExecutionMode mode, Dictionary<int, ConvolutionCheck> checks, ScalarType dtype)
    {
        var readers = _nodes.SelectMany(n => n.Inputs).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        for (int b = 0; b < _nodes.Count; b++)
        {
            var norm = _nodes[b];
            if (norm.OpType != "BatchNormalization" || norm.Inputs.Count < 5 || norm.Outputs.Skip(1).Any(o => o.Length > 0)) continue;
            if (!norm.Inputs.Skip(1).All(_constants.ContainsKey)) continue;
            if (!_producer.TryGetValue(norm.Inputs[0], out var k) || !checks.TryGetValue(k, out var check)) continue;
            var conv = _nodes[k];
            bool hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
            if (readers[norm.Inputs[0]] != 1 || norm.Inputs[0] == OutputTap || !_constants.ContainsKey(conv.Inputs[1])
                || (hasBias && !_constants.ContainsKey(conv.Inputs[2]))) continue;
            using var scope = NewDisposeScope();
            var (folded, shift) = FoldedWeights(b, k, dtype);
            var (w, bias) = Convolution.Adapt(folded, shift, check.Variant, mode.ChannelsLast);
            _folded[b] = (k, w.DetachFromDisposeScope(), bias!.DetachFromDisposeScope());
        }
    }

    /// <summary>The weights and bias of normalization <paramref name="b"/> folded into convolution <paramref name="k"/>, before any variant's adaptation.</summary>
    (Tensor Weight, Tensor Bias) FoldedWeights(int b, int k, ScalarType dtype)
    {
        var (norm, conv) = (_nodes[b], _nodes[k]);
        bool hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
        Tensor Wide(string name) => _constants[name].to_type(ScalarType.Float64);
        var factor = Wide(norm.Inputs[1]) / (Wide(norm.Inputs[4]) + norm.Float("epsilon", 1e-5f)).sqrt();
        var folded = (Wide(conv.Inputs[1]) * factor.view(-1, 1, 1, 1)).to_type(dtype);
        var shift = (((hasBias ? Wide(conv.Inputs[2]) : zeros_like(factor)) - Wide(norm.Inputs[3])) * factor + Wide(norm.Inputs[2])).to_type(dtype);
        return (folded, shift);
    }

    ConvolutionShape? ConvolutionShapeOf(OnnxNode node, Dictionary<string, long[]> shapes)
    {
        if (node.OpType != "Conv") return null;
        long[] x = node.Inputs[0] == _inputName ? [1, InputChannels, InputHeight, InputWidth] : shapes.GetValueOrDefault(node.Inputs[0]) ?? [];
        long[] w = _constants.TryGetValue(node.Inputs[1], out var weight) ? weight.shape : shapes.GetValueOrDefault(node.Inputs[1]) ?? [];
        if (x.Length != 4 || w.Length != 4) return null;
        var pads = node.Ints("pads");
        long pad = pads is { Length: 4 } && pads.All(p => p == pads[0]) ? pads[0] : 0;
        return new ConvolutionShape(x[1], w[0], w[2], w[3], (node.Ints("strides") ?? [1])[0], pad,
            (node.Ints("dilations") ?? [1])[0], node.Int("group", 1), x[2], x[3]);
    }

    void ReleasePrepared()
    {
        foreach (var t in _prepared.Values) t.Dispose();
        foreach (var (w, b) in _adaptedConvolutions.Values) { w.Dispose(); b?.Dispose(); }
        foreach (var (_, w, b) in _folded.Values) { w.Dispose(); b.Dispose(); }
        _prepared.Clear();
        _adaptedConvolutions.Clear();
        _folded.Clear();
        ClearPlans();
        foreach (var node in _nodes) node.ConvolutionVariant = default;
        _running = ExecutionMode.Exact;
    }

    /// <summary>
    /// CNTK pads convolutions and pools "same" (output = ⌈input / stride⌉) and exports the pads that rule gives at the
    /// declared input size, which are asymmetric and wrong for any other size (the two branches of a residual block
    /// would disagree). Nodes whose explicit pads equal SAME_LOWER or SAME_UPPER at the declared size keep that rule.
    /// </summary>
    void KeepCntkSamePadding()
    {
        var outputs = RunPreprocessedShapes();
        foreach (var node in _nodes.Where(n => n.OpType is "Conv" or "MaxPool" or "AveragePool" && n.Ints("pads") is not null))
        {
            var input = node.Inputs[0] == _inputName ? [1, InputChannels, InputHeight, InputWidth] : outputs[node.Inputs[0]];
            var kernel = node.Ints("kernel_shape") ?? (node.OpType == "Conv" ? _constants[node.Inputs[1]].shape[2..] : null);
            if (kernel is null || input.Length != 4) continue;
            var strides = node.Ints("strides") ?? [1, 1];
            var dilations = node.Ints("dilations") ?? [1, 1];
            var pads = node.Ints("pads")!;
            foreach (var rule in new[] { "SAME_LOWER", "SAME_UPPER" })
                if (OnnxOps.SamePads(rule, input[2..], kernel, strides, dilations).SequenceEqual(pads))
                {
                    node.AutoPadOverride = rule;
                    break;
                }
        }
        ClearPlans();
    }

    // Every value's shape at the declared input size, computed once: neither the CNTK padding rule (whose pads equal
    // the exported ones at that size) nor an execution mode changes them.
    Dictionary<string, long[]>? _declaredShapes;

    Dictionary<string, long[]> RunPreprocessedShapes() => _declaredShapes ??= ComputeDeclaredShapes();

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, long[]>? KnownShapes(long height, long width) =>
        height == InputHeight && width == InputWidth ? RunPreprocessedShapes() : null;

    Dictionary<string, long[]> ComputeDeclaredShapes()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var all = _nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToHashSet();
        return RunPreprocessed(zeros(1, InputChannels, InputHeight, InputWidth, device: Device), all).ToDictionary(p => p.Key, p => p.Value.shape);
    }

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        // Plans hold channel indices and sliced weights on the old device.
        ClearPlans();
        foreach (var (name, value) in _constants.Where(c => c.Value.is_floating_point()).ToList())
        {
            _constants[name] = value.to(device).DetachFromDisposeScope();
            value.Dispose();
        }
    }

    // Floating-point constants join the weights on the model's device. Integer ones (shapes, axes, indices) stay on the
    // CPU, where kernels read them as numbers.
    Tensor OnDevice(Tensor constant) =>
        constant.is_floating_point() && !Devices.Same(constant.device, Device) ? constant.to(Device) : constant;

    /// <summary>
    /// Names blocks the way papers and torchvision do: for residual networks, <c>conv1</c> (stem), <c>maxpool</c>,
    /// <c>layerK</c> (the last block of each stage, stages told apart by channel count), <c>layerK.i</c> (each block)
    /// and <c>pool</c>; for Inception networks, <c>mixedNx</c> for each concatenation (Lucid's names for GoogLeNet); for
    /// transformers, <c>attentionK</c> for each attention softmax.
    /// </summary>
    void AddStructuralAliases()
    {
        var taps = Taps();
        var byName = taps.ToDictionary(t => t.Name);
        // The stem: a convolution of the image, perhaps batch-normalized, then the first ReLU.
        var firstRelu = _nodes.FirstOrDefault(n => n.OpType == "Relu");
        string? Producer(string value, params string[] ops) =>
            _producer.TryGetValue(value, out var p) && ops.Contains(_nodes[p].OpType) ? _nodes[p].Inputs[0] : null;
        if (firstRelu is not null && Producer(firstRelu.Inputs[0], "Conv", "BatchNormalization") is { } stem
            && (stem == _inputName || Producer(stem, "Conv") == _inputName))
            AddAlias("conv1", firstRelu.Outputs[0]);
        var firstMaxPool = _nodes.FirstOrDefault(n => n.OpType == "MaxPool");
        if (firstMaxPool is not null) AddAlias("maxpool", firstMaxPool.Outputs[0]);

        var blocks = _nodes.Where(n => n.OpType == "Relu" && _producer.TryGetValue(n.Inputs[0], out var p) && _nodes[p].OpType == "Add")
            .Select(n => byName[n.Outputs[0]]).ToList();
        int stage = 0;
        long channels = -1;
        int index = 0;
        TapInfo? previous = null;
        foreach (var block in blocks)
        {
            if (block.Channels != channels)
            {
                if (previous is not null) AddAlias($"layer{stage}", previous.Name);
                (stage, channels, index) = (stage + 1, block.Channels, 0);
            }
            AddAlias($"layer{stage}.{index++}", block.Name);
            previous = block;
        }
        if (previous is not null) AddAlias($"layer{stage}", previous.Name);

        var concats = _nodes.Where(n => n.OpType == "Concat" && byName.TryGetValue(n.Outputs[0], out var t) && t.Shape.Length == 4).ToList();
        if (concats.Count == 9)
            foreach (var (node, alias) in concats.Zip(new[] { "mixed3a", "mixed3b", "mixed4a", "mixed4b", "mixed4c", "mixed4d", "mixed4e", "mixed5a", "mixed5b" }))
                AddAlias(alias, node.Outputs[0]);

        // A transformer's attention weights: the softmax over keys, [.., T, T].
        var attention = _nodes.Where(n => n.OpType == "Softmax" && byName.TryGetValue(n.Outputs[0], out var t) && t.Shape.Length >= 3
            && t.Shape[^1] == t.Shape[^2]).ToList();
        for (int k = 0; k < attention.Count; k++) AddAlias($"attention{k}", attention[k].Outputs[0]);

        var last = _nodes[^1];
        if (last.OpType is "AveragePool" or "GlobalAveragePool") AddAlias("pool", last.Outputs[0]);
        // Class visualization optimizes the pre-softmax score: a softmax at the end is skipped.
        // A feature extractor (like the packaged ResNet-18) ends in a 4-D map and gets no such alias.
        var scores = last.OpType == "Softmax" ? last.Inputs[0] : OutputTap;
        if (byName.TryGetValue(scores, out var scoreTap) && scoreTap.Shape.Length == 2) AddAlias("logits", scores);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleasePrepared();
            foreach (var t in _constants.Values) t.Dispose();
        }
        base.Dispose(disposing);
    }
}
