using ResearchKit.TestSupport;
using System.Diagnostics;
using Google.Protobuf;
using Onnx;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Reliability;

/// <summary>
/// Bounded, seeded fuzzing of the file readers: valid files with random bit flips, overwritten bytes, insertions,
/// deletions and truncations. Every load must succeed or throw the kit's own typed error; any other exception type
/// fails the test with the seed and iteration that reproduce it (and a crash of the process fails the run).
/// </summary>
public sealed class FuzzTests : IDisposable
{
    const int Iterations = 300;
    // Graph mutations mostly fail inside libtorch, whose errors carry a symbolized C++ stack trace: slower, so fewer.
    const int GraphIterations = 200;
    readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData(".png", 11)]
    [InlineData(".jpg", 12)]
    public void Mutated_images_load_or_raise_an_image_load_exception(string extension, int seed)
    {
        var valid = BadImages.Valid(extension, size: 16);
        Fuzz(extension, seed, random => Mutate(valid, random), path => ImageIO.Load(path).Dispose(), typeof(ImageLoadException));
    }

    // PNG checksums catch nearly every byte mutation; with them made to match, the mutations reach the decoder.
    [Fact]
    public void Mutated_pngs_with_matching_checksums_load_or_raise_an_image_load_exception()
    {
        var valid = BadImages.Valid(".png", size: 16);
        Fuzz(".png", 15, random => BadImages.WithPngChecksums(Mutate(valid, random)), path => ImageIO.Load(path).Dispose(), typeof(ImageLoadException));
    }

    [Fact]
    public void Mutated_onnx_models_load_or_raise_a_model_load_exception()
    {
        var valid = FuzzModel().Build().ToByteArray();
        Fuzz(".onnx", 13, random => Mutate(valid, random), path => OnnxModel.Load(path).Dispose(), typeof(ModelLoadException));
    }

    // Byte mutations mostly break the protobuf encoding; these change what the graph says while keeping it readable.
    [Fact]
    public void Onnx_models_with_mutated_attributes_shapes_and_wiring_load_or_raise_a_model_load_exception()
    {
        var valid = FuzzModel().Build();
        Fuzz(".onnx", 14, random => MutateGraph(valid, random).ToByteArray(), path => OnnxModel.Load(path).Dispose(), typeof(ModelLoadException),
            GraphIterations);
    }

    /// <summary>A small graph with many kinds of operator and attribute, so that most bytes are structure rather than weights.</summary>
    static OnnxGraphBuilder FuzzModel()
    {
        var g = new OnnxGraphBuilder(opset: 13, seed: 3, name: "fuzz");
        var x = g.Input("data", -1, 3, 16, 16).Conv(4, 3, pad: 1).BatchNormalization().Relu();
        var pooled = x.MaxPool(2, stride: 2).Conv(4, 1, bias: false);
        var merged = pooled.Add(pooled.AveragePool(3, pad: 1)).Relu().Pad([0, 0, 1, 1, 0, 0, 1, 1]);
        var features = g.Concat(merged, merged.Sigmoid()).GlobalAveragePool().Flatten().Reshape(0, -1);
        return g.Output(features.Gemm(3).Softmax());
    }

    void Fuzz(string extension, int seed, Func<Random, byte[]> mutate, Action<string> load, Type expected, int iterations = Iterations)
    {
        var random = new Random(seed);
        var unexpected = new List<string>();
        int loaded = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            string path = _scratch.Write($"fuzz{extension}", mutate(random));
            try
            {
                load(path);
                loaded++;
            }
            catch (Exception e) when (!expected.IsInstanceOfType(e))
            {
                unexpected.Add($"seed {seed} iteration {i}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
            catch (Exception e)
            {
                Assert.Contains(path, e.Message);
            }
        }
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} unexpected exception(s):\n{string.Join("\n", unexpected.Take(20))}");
        // Some mutations must survive (flips in pixel or weight data) and some must be caught, or the fuzzer tests nothing.
        Assert.InRange(loaded, 1, iterations - 1);
        // Generous for a loaded machine: catches a mutation that makes loading hang, not a slow runner.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{iterations} loads took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    static readonly long[] Interesting = [0, 1, -1, 2, 3, 7, 16, 255, 1L << 16, 1L << 31, -(1L << 31), 1L << 40, long.MaxValue, long.MinValue];
    static readonly float[] InterestingFloats = [0, -1, 1e-30f, 1e30f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
    static readonly string[] InterestingStrings = ["", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "reflect", "edge", "wrap", "\u00e9"];

    /// <summary>One to three changes to the graph's meaning: attribute values, tensor shapes and values, wiring, op types, order.</summary>
    static ModelProto MutateGraph(ModelProto valid, Random random)
    {
        var proto = valid.Clone();
        var graph = proto.Graph;
        var names = graph.Node.SelectMany(n => n.Output).Concat(graph.Initializer.Select(t => t.Name)).Append("data").Append("").ToList();
        T Pick<T>(IList<T> items) => items[random.Next(items.Count)];
        for (int edits = 1 + random.Next(3); edits > 0; edits--)
        {
            var node = Pick(graph.Node);
            var tensor = Pick(graph.Initializer);
            switch (random.Next(9))
            {
                case 0 when node.Attribute.Count > 0:
                    var a = Pick(node.Attribute);
                    if (a.Ints.Count > 0) a.Ints[random.Next(a.Ints.Count)] = Pick(Interesting);
                    else if (a.Floats.Count > 0) a.Floats[random.Next(a.Floats.Count)] = Pick(InterestingFloats);
                    a.I = Pick(Interesting);
                    a.F = Pick(InterestingFloats);
                    a.S = ByteString.CopyFromUtf8(Pick(InterestingStrings));
                    break;
                case 1:
                    if (tensor.Dims.Count > 0 && random.Next(2) == 0) tensor.Dims[random.Next(tensor.Dims.Count)] = Pick(Interesting);
                    else if (tensor.Dims.Count > 0 && random.Next(2) == 0) tensor.Dims.RemoveAt(random.Next(tensor.Dims.Count));
                    else tensor.Dims.Add(Pick(Interesting));
                    break;
                case 2 when tensor.DataType == (int)TensorProto.Types.DataType.Int64 && tensor.RawData.Length >= 8:
                    var values = tensor.RawData.ToByteArray();
                    BitConverter.TryWriteBytes(values.AsSpan(8 * random.Next(values.Length / 8)), Pick(Interesting));
                    tensor.RawData = ByteString.CopyFrom(values);
                    break;
                case 3:
                    tensor.DataType = random.Next(17);
                    break;
                case 4 when node.Input.Count > 0:
                    node.Input[random.Next(node.Input.Count)] = Pick(names);
                    break;
                case 5:
                    if (random.Next(2) == 0 && node.Input.Count > 0) node.Input.RemoveAt(node.Input.Count - 1);
                    else node.Input.Add(Pick(names));
                    break;
                case 6:
                    node.OpType = Pick(OnnxOps.Supported.ToList());
                    break;
                case 7:
                    graph.Node.Remove(node);
                    graph.Node.Insert(random.Next(graph.Node.Count + 1), node);
                    break;
                default:
                    var dims = graph.Input[0].Type.TensorType.Shape.Dim;
                    dims[random.Next(dims.Count)].DimValue = Pick(Interesting);
                    break;
            }
        }
        return proto;
    }

    static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = new List<byte>(valid);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(10))
            {
                case < 4: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case < 7: bytes[at] = (byte)random.Next(256); break;
                case 7: bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256))); break;
                case 8: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }
}
