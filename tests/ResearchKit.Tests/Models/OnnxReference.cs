using ResearchKit.TestSupport;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Models;

/// <summary>Runs an ONNX file in ONNX Runtime (the independent reference), exposing any intermediate values as outputs.</summary>
static class OnnxReference
{
    public static Dictionary<string, (float[] Values, long[] Shape)> Run(string file, float[] input, long[] shape, params string[] outputs)
    {
        var proto = OnnxModel.ReadProto(file);
        var existing = proto.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in outputs.Where(o => !existing.Contains(o)))
            proto.Graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        // Let the reference take a batch, as the kit does.
        foreach (var declared in proto.Graph.Input.Where(i => i.Type?.TensorType?.Shape?.Dim.Count > 0))
            declared.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(proto.ToByteArray(), options);
        var inputName = session.InputMetadata.Keys.First();
        var feed = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(input, shape.Select(d => (int)d).ToArray())) };
        using var results = session.Run(feed, outputs);
        return results.ToDictionary(r => r.Name, r =>
        {
            var t = r.AsTensor<float>();
            return (t.ToArray(), t.Dimensions.ToArray().Select(d => (long)d).ToArray());
        });
    }
}
