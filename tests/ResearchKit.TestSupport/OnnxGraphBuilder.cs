using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using ResearchKit.IO;
using ResearchKit.Models.Onnx;

namespace ResearchKit.TestSupport;

/// <summary>
/// Writes small ONNX models in code, with seeded random weights: test networks, and known topologies to try the kit
/// on without trained weights. Operators are chained on <see cref="OnnxValue"/>s
/// (<c>g.Input("data", 1, 3, 32, 32).Conv(16, 3, pad: 1).Relu()</c>); each follows the conventions of the builder's
/// opset (attributes before an operator's inputs replaced them). Shapes are tracked so that weights get the right size.
/// </summary>
public sealed class OnnxGraphBuilder
{
    readonly GraphProto _graph = new() { Name = "graph" };
    readonly Random _random;
    readonly HashSet<string> _names = [];
    int _counter;

    /// <summary>Starts an empty graph importing <paramref name="opset"/> of the default domain.</summary>
    public OnnxGraphBuilder(int opset = 13, int seed = 0, string name = "graph")
    {
        if (opset is < 6 or > 21) throw new ArgumentOutOfRangeException(nameof(opset), opset, "the builder writes opsets 6..21");
        Opset = opset;
        _random = new Random(seed);
        _graph.Name = name;
    }

    /// <summary>The default-domain opset the model imports.</summary>
    public int Opset { get; }

    /// <summary>Names of the declared outputs.</summary>
    public IReadOnlyList<string> Outputs => [.. _graph.Output.Select(o => o.Name)];

    /// <summary>Declares a float input; a dimension of −1 is symbolic (a batch of any size).</summary>
    public OnnxValue Input(string name, params long[] shape)
    {
        Claim(name);
        var dims = new TensorShapeProto();
        foreach (var d in shape)
            dims.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        _graph.Input.Add(new ValueInfoProto { Name = name, Type = FloatType(dims) });
        return new OnnxValue(this, name, shape);
    }

    /// <summary>A float initializer with the given values.</summary>
    public OnnxValue Initializer(float[] values, long[] shape, string? name = null) =>
        AddInitializer(FloatTensor(values, shape), name ?? Fresh("const"), shape);

    /// <summary>A 1-D int64 initializer (shapes, axes, pads).</summary>
    public OnnxValue Int64s(params long[] values) => AddInitializer(Int64Tensor(values, [values.Length]), Fresh("ints"), [values.Length]);

    /// <summary>A 0-D int64 initializer (an index).</summary>
    public OnnxValue Int64(long value) => AddInitializer(Int64Tensor([value], []), Fresh("int"), []);

    /// <summary>A 1-D float initializer (scales, empty regions of interest).</summary>
    public OnnxValue Floats(params float[] values) => Initializer(values, [values.Length]);

    /// <summary>A 0-D float initializer.</summary>
    public OnnxValue Scalar(float value) => Initializer([value], []);

    /// <summary>A float initializer drawn from a normal distribution.</summary>
    public OnnxValue Normal(long[] shape, double std, double mean = 0, string? name = null) =>
        Initializer(Draw(shape, () => mean + std * Gaussian()), shape, name);

    /// <summary>A float initializer drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public OnnxValue Uniform(long[] shape, double low, double high, string? name = null) =>
        Initializer(Draw(shape, () => low + (high - low) * _random.NextDouble()), shape, name);

    /// <summary>A <c>Constant</c> node holding a float tensor.</summary>
    public OnnxValue Constant(float[] values, params long[] shape) =>
        Node("Constant", [], shape, ("value", FloatTensor(values, shape)));

    /// <summary>
    /// Adds a node of any operator. Attribute values may be long, int, float, double, string, long[], int[], float[]
    /// or a TensorProto; a null input is an omitted optional input. The output's shape is <paramref name="shape"/>
    /// (null when unknown).
    /// </summary>
    public OnnxValue Node(string opType, IEnumerable<OnnxValue?> inputs, long[]? shape, params (string Name, object Value)[] attributes) =>
        Node(opType, inputs, 1, attributes)[0] with { Shape = shape };

    /// <summary>Adds a node with <paramref name="outputs"/> outputs (shapes unknown).</summary>
    public OnnxValue[] Node(string opType, IEnumerable<OnnxValue?> inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh(opType.ToLowerInvariant()) };
        node.Input.AddRange(inputs.Select(i => i?.Name ?? ""));
        var results = Enumerable.Range(0, outputs).Select(k => new OnnxValue(this, k == 0 ? node.Name : $"{node.Name}:{k}", null)).ToArray();
        foreach (var r in results.Skip(1)) Claim(r.Name);
        node.Output.AddRange(results.Select(r => r.Name));
        node.Attribute.AddRange(attributes.Select(a => Attribute(a.Name, a.Value)));
        _graph.Node.Add(node);
        return results;
    }

    /// <summary>Concatenates values along <paramref name="axis"/>.</summary>
    public OnnxValue Concat(long axis, params OnnxValue[] values)
    {
        var shapes = values.Select(v => v.Shape).ToList();
        long[]? shape = null;
        if (shapes.All(s => s is not null))
        {
            shape = [.. shapes[0]!];
            long a = axis < 0 ? axis + shape.Length : axis;
            shape[a] = shapes.Any(s => s![a] < 0) ? -1 : shapes.Sum(s => s![a]);
        }
        return Node("Concat", values, shape, ("axis", axis));
    }

    /// <summary>Concatenates image batches along channels.</summary>
    public OnnxValue Concat(params OnnxValue[] values) => Concat(1, values);

    /// <summary>The element-wise sum of values of one shape.</summary>
    public OnnxValue Sum(params OnnxValue[] values) => Node("Sum", values, values[0].Shape);

    /// <summary>Declares graph outputs (the first is the model's output).</summary>
    public OnnxGraphBuilder Output(params OnnxValue[] values)
    {
        foreach (var v in values)
            _graph.Output.Add(new ValueInfoProto { Name = v.Name, Type = FloatType(null) });
        return this;
    }

    /// <summary>Gives a value a readable name (e.g. <c>inception_3a/output</c>) in place of the generated one.</summary>
    public OnnxValue Rename(OnnxValue value, string name)
    {
        Claim(name);
        foreach (var node in _graph.Node)
        {
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == value.Name) node.Input[k] = name;
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == value.Name) node.Output[k] = name;
        }
        foreach (var info in _graph.Input.Concat(_graph.Output)) if (info.Name == value.Name) info.Name = name;
        foreach (var t in _graph.Initializer) if (t.Name == value.Name) t.Name = name;
        _names.Remove(value.Name);
        return value with { Name = name };
    }

    /// <summary>The model as a protobuf message (a copy; the builder can go on).</summary>
    public ModelProto Build()
    {
        if (_graph.Output.Count == 0) throw new InvalidOperationException("the graph has no outputs; call Output(...) first");
        return new ModelProto
        {
            IrVersion = Opset <= 12 ? 7 : Opset <= 18 ? 8 : 9,
            ProducerName = "ResearchKit.OnnxGraphBuilder",
            Graph = _graph.Clone(),
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
        };
    }

    /// <summary>Writes the model to an ONNX file (atomically).</summary>
    public void Save(string path) => AtomicFile.WriteAllBytes(path, Build().ToByteArray());

    double Gaussian()
    {
        // Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
        double u = 1 - _random.NextDouble(), v = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    string Fresh(string stem)
    {
        string name;
        do name = $"{stem}_{++_counter}"; while (_names.Contains(name));
        _names.Add(name);
        return name;
    }

    void Claim(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"the graph already has a value named '{name}'", nameof(name));
    }

    OnnxValue AddInitializer(TensorProto tensor, string name, long[] shape)
    {
        if (!_names.Contains(name)) Claim(name);
        tensor.Name = name;
        _graph.Initializer.Add(tensor);
        return new OnnxValue(this, name, shape);
    }

    static float[] Draw(long[] shape, Func<double> sample)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        for (long k = 0; k < count; k++) values[k] = (float)sample();
        return values;
    }

    static TypeProto FloatType(TensorShapeProto? shape) => new()
    {
        TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
    };

    static TensorProto FloatTensor(float[] values, long[] shape)
    {
        if (values.LongLength != shape.Aggregate(1L, (a, b) => a * b))
            throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(",", shape)}]", nameof(values));
        return new TensorProto
        {
            DataType = (int)TensorProto.Types.DataType.Float,
            Dims = { shape },
            RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
        };
    }

    static TensorProto Int64Tensor(long[] values, long[] shape) => new()
    {
        DataType = (int)TensorProto.Types.DataType.Int64,
        Dims = { shape },
        RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
    };

    static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        bool b => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = b ? 1 : 0 },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        double f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ints } },
        int[] ints => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ints.Select(i => (long)i) } },
        float[] floats => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats, Floats = { floats } },
        TensorProto t => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t },
        _ => throw new ArgumentException($"attribute '{name}' has a value of type {value.GetType().Name}; use long, float, string, long[], float[] or TensorProto", nameof(value)),
    };
}
