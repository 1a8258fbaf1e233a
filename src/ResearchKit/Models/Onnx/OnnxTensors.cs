using System.Runtime.InteropServices;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models.Onnx;

/// <summary>Converts ONNX <c>TensorProto</c> values (inline or external data) into TorchSharp tensors.</summary>
internal static class OnnxTensors
{
    // A sanity bound on one initializer (4 Gi elements); beyond it the file is corrupt or not meant for this kit.
    const long MaxElements = 1L << 32;

    public static Tensor ToTensor(TensorProto proto, string file, string? modelFolder)
    {
        long[] dims = [.. proto.Dims];
        if (dims.Any(d => d < 0))
            throw new ModelLoadException($"{file}: tensor '{proto.Name}' has a negative dimension [{string.Join(",", dims)}]");
        long count = 1;
        foreach (var d in dims)
        {
            if (d > MaxElements || (d > 0 && count > MaxElements / d))   // checked before multiplying, which could overflow
                throw new ModelLoadException($"{file}: tensor '{proto.Name}' declares an absurd size [{string.Join(",", dims)}]");
            count *= d;
        }

        byte[] raw = proto.DataLocation == TensorProto.Types.DataLocation.External
            ? ReadExternal(proto, file, modelFolder)
            : proto.RawData.ToByteArray();
        var type = (TensorProto.Types.DataType)proto.DataType;
        return type switch
        {
            TensorProto.Types.DataType.Float => Make(raw.Length > 0 ? Cast<float>(raw) : [.. proto.FloatData], dims, count, proto, file),
            TensorProto.Types.DataType.Double => Make(raw.Length > 0 ? Cast<double>(raw) : [.. proto.DoubleData], dims, count, proto, file).to_type(float32),
            TensorProto.Types.DataType.Int64 => Make(raw.Length > 0 ? Cast<long>(raw) : [.. proto.Int64Data], dims, count, proto, file),
            TensorProto.Types.DataType.Int32 => Make(raw.Length > 0 ? Cast<int>(raw) : [.. proto.Int32Data], dims, count, proto, file).to_type(int64),
            // Narrow integers and booleans arrive in int32_data when not raw; integers are kept as int64 (exact).
            TensorProto.Types.DataType.Int16 => Make(raw.Length > 0 ? Cast<short>(raw).Select(v => (int)v).ToArray() : [.. proto.Int32Data], dims, count, proto, file).to_type(int64),
            TensorProto.Types.DataType.Int8 => Make(raw.Length > 0 ? raw.Select(v => (int)(sbyte)v).ToArray() : [.. proto.Int32Data], dims, count, proto, file).to_type(int64),
            TensorProto.Types.DataType.Uint8 => Make(raw.Length > 0 ? raw.Select(v => (int)v).ToArray() : [.. proto.Int32Data], dims, count, proto, file).to_type(int64),
            TensorProto.Types.DataType.Bool => Make(raw.Length > 0 ? raw.Select(v => (int)v).ToArray() : [.. proto.Int32Data], dims, count, proto, file).ne(0),
            TensorProto.Types.DataType.Float16 => Make(raw.Length > 0 ? Cast<Half>(raw).Select(h => (float)h).ToArray()
                : proto.Int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits)).ToArray(), dims, count, proto, file),
            _ => throw new ModelLoadException($"{file}: tensor '{proto.Name}' has data type {type}, which the importer does not read (float, double, float16, 8- to 64-bit integers and bool are supported)"),
        };
    }

    static T[] Cast<T>(byte[] raw) where T : struct => MemoryMarshal.Cast<byte, T>(raw).ToArray();

    static Tensor Make<T>(T[] values, long[] dims, long count, TensorProto proto, string file) where T : unmanaged
    {
        if (values.LongLength != count)
            throw new ModelLoadException(
                $"{file}: tensor '{proto.Name}' declares shape [{string.Join(",", dims)}] ({count} values) but holds {values.LongLength}; the file is truncated or corrupt");
        // Read on the CPU; a model moves its floating-point values to its device (Model.To).
        return typeof(T) == typeof(float) ? tensor((float[])(object)values, dims, device: CPU)
            : typeof(T) == typeof(double) ? tensor((double[])(object)values, dims, device: CPU)
            : typeof(T) == typeof(long) ? tensor((long[])(object)values, dims, device: CPU)
            : tensor((int[])(object)values, dims, device: CPU);
    }

    // External data must live inside the model's folder: a model file must not make the kit read arbitrary files.
    static byte[] ReadExternal(TensorProto proto, string file, string? folder)
    {
        var entries = new Dictionary<string, string>();
        foreach (var entry in proto.ExternalData) entries[entry.Key] = entry.Value;
        if (folder is null || !entries.TryGetValue("location", out var location))
            throw new ModelLoadException($"{file}: tensor '{proto.Name}' refers to external data without a location");
        string root, path;
        try
        {
            root = WithoutLinks(Path.GetFullPath(folder));
            path = WithoutLinks(Path.GetFullPath(Path.Combine(root, location)));
        }
        catch (IOException e)   // a loop of links
        {
            throw new ModelLoadException($"{file}: tensor '{proto.Name}' refers to external data '{location}', whose path cannot be resolved ({e.Message})", e);
        }
        if (!path.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ModelLoadException($"{file}: tensor '{proto.Name}' refers to external data '{location}' outside the model's folder; refusing to read it");
        if (!File.Exists(path))
            throw new ModelLoadException($"{file}: tensor '{proto.Name}' refers to external data '{location}', which does not exist");
        long Number(string key, long fallback) => !entries.TryGetValue(key, out var text) ? fallback
            : long.TryParse(text, out var n) ? n
            : throw new ModelLoadException($"{file}: tensor '{proto.Name}': external data '{location}' has {key} '{text}', which is not a number");
        long offset = Number("offset", 0);
        using var stream = File.OpenRead(path);
        long length = Number("length", stream.Length - offset);
        if (offset < 0 || length < 0 || length > stream.Length - offset)
            throw new ModelLoadException($"{file}: tensor '{proto.Name}' asks for bytes {offset}..{offset + length} of '{location}', which has {stream.Length}");
        var bytes = new byte[length];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    // The path with symbolic links resolved in every component, so that a link inside the folder cannot lead out of it.
    static string WithoutLinks(string fullPath)
    {
        string root = Path.GetPathRoot(fullPath)!, resolved = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            resolved = Path.Combine(resolved, part);
            var info = new FileInfo(resolved);
            if (info.LinkTarget is not null) resolved = WithoutLinks(info.ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        }
        return resolved;
    }
}
