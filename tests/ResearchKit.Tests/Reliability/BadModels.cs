using ResearchKit.TestSupport;
using Google.Protobuf;
using Onnx;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Reliability;

/// <summary>Broken ONNX files, generated from <see cref="TinyNet"/> and the protobuf types: nothing is checked in.</summary>
static class BadModels
{
    /// <summary>Each kind of broken model with a fragment of the message that names the problem.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "truncated", "input ended unexpectedly" },
        { "random bytes", "not a readable ONNX model" },
        { "jpeg renamed", "a JPEG image, not an ONNX model" },
        { "zero-byte", "model file is empty (0 bytes)" },
        { "unknown op", "unsupported ONNX operator(s) FancyBlur (in node 'fancyblur_" },
        { "absurd input size", "input 'data' declares an absurd size 100000x100000" },
        { "absurd input rank", "input 'data' is not an image batch [N,C,H,W] (declared rank 5)" },
        { "absurd initializer dims", "declares an absurd size [4294967296,4294967296]" },
        { "data length mismatch", "declares shape [8,3,3,4] (288 values) but holds 216" },
        { "external data outside its folder", "refers to external data '../secret.bin' outside the model's folder; refusing to read it" },
        { "external data at an absolute path", "refers to external data '/etc/hostname' outside the model's folder; refusing to read it" },
        { "external data through a link out of its folder", "refers to external data 'weights.bin' outside the model's folder; refusing to read it" },
        { "missing external file", "refers to external data 'weights.bin', which does not exist" },
        { "external offset not a number", "external data 'weights.bin' has offset 'twelve'" },
        { "value never produced", "value 'ghost' is used but neither an input, an initializer nor a node output" },
        { "nodes out of order", "is listed before the node that computes it" },
        { "duplicate initializer", "defines initializer 'conv_1_w' twice" },
        { "inconsistent shapes", "cannot run at its declared input size 32x32: Conv node" },
    };

    /// <summary>Writes the broken model (and any file it refers to) below <paramref name="scratch"/>; returns the
    /// model's path relative to the scratch folder.</summary>
    public static string Write(Scratch scratch, string kind)
    {
        const string name = "models/model.onnx";
        byte[] bytes = kind switch
        {
            "truncated" => TinyNet.Bytes()[..(TinyNet.Bytes().Length * 2 / 3)],
            "random bytes" => RandomBytes(4096, seed: 5),
            "jpeg renamed" => BadImages.Valid(".jpg"),
            "zero-byte" => [],
            "unknown op" => UnknownOp(),
            "absurd input size" => Edit(p => { var dims = p.Graph.Input[0].Type.TensorType.Shape.Dim; dims[2].DimValue = dims[3].DimValue = 100000; }),
            "absurd input rank" => Edit(p => p.Graph.Input[0].Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 32 })),
            "absurd initializer dims" => Edit(p => { var w = FirstWeight(p); w.Dims.Clear(); w.Dims.Add([1L << 32, 1L << 32]); w.RawData = ByteString.Empty; }),
            "data length mismatch" => Edit(p => FirstWeight(p).Dims[3] = 4),
            "external data outside its folder" => External(scratch, "../secret.bin", "secret.bin"),
            "external data at an absolute path" => External(scratch, "/etc/hostname", null),
            "external data through a link out of its folder" => LinkedOut(scratch),
            "missing external file" => External(scratch, "weights.bin", null),
            "external offset not a number" => External(scratch, "weights.bin", "models/weights.bin", offset: "twelve"),
            "value never produced" => Edit(p => p.Graph.Node[1].Input[0] = "ghost"),
            "nodes out of order" => Edit(p => { var first = p.Graph.Node[0]; p.Graph.Node.RemoveAt(0); p.Graph.Node.Add(first); }),
            "duplicate initializer" => Edit(p => p.Graph.Initializer.Add(FirstWeight(p).Clone())),
            "inconsistent shapes" => Inconsistent(),
            _ => throw new ArgumentException(kind),
        };
        scratch.Write(name, bytes);
        return name;
    }

    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>TinyNet with the first convolution's weight named <c>conv_1_w</c>, changed by <paramref name="edit"/>.</summary>
    static byte[] Edit(Action<ModelProto> edit)
    {
        var proto = TinyNet.Builder().Build();
        var weight = FirstWeight(proto);
        foreach (var node in proto.Graph.Node)
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == weight.Name) node.Input[k] = "conv_1_w";
        weight.Name = "conv_1_w";
        edit(proto);
        return proto.ToByteArray();
    }

    static TensorProto FirstWeight(ModelProto proto) => proto.Graph.Initializer.First(t => t.Dims.Count == 4);

    static byte[] UnknownOp()
    {
        var g = new OnnxGraphBuilder(seed: 1);
        var x = g.Input("data", 1, 3, 32, 32).Conv(8, 3, pad: 1).Relu();
        g.Output(g.Node("FancyBlur", [x], x.Shape).GlobalAveragePool());
        return g.Build().ToByteArray();
    }

    // A convolution whose weights expect 5 input channels after a layer that makes 8.
    static byte[] Inconsistent()
    {
        var g = new OnnxGraphBuilder(seed: 1);
        var x = g.Input("data", 1, 3, 32, 32).Conv(8, 3, pad: 1).Relu();
        g.Output(g.Node("Conv", [x, g.Normal([4, 5, 3, 3], 1)], [1, 4, 30, 30]).Relu());
        return g.Build().ToByteArray();
    }

    // models/weights.bin is a symbolic link to secret.bin beside the folder, which holds the right bytes.
    static byte[] LinkedOut(Scratch scratch)
    {
        var bytes = External(scratch, "weights.bin", "secret.bin");
        Directory.CreateDirectory(scratch.File("models"));
        File.CreateSymbolicLink(scratch.File("models/weights.bin"), scratch.File("secret.bin"));
        return bytes;
    }

    // The first convolution's weights moved to an external file; when the file is written it holds the right bytes.
    public static byte[] External(Scratch scratch, string location, string? dataFile, string offset = "0") => Edit(p =>
    {
        var weight = FirstWeight(p);
        if (dataFile is not null) scratch.Write(dataFile, weight.RawData.ToByteArray());
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        weight.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset });
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.RawData = ByteString.Empty;
    });
}
