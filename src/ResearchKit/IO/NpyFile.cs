using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace ResearchKit.IO;

/// <summary>
/// Reads NumPy arrays (<c>numpy.save</c>'s <c>.npy</c> and <c>numpy.savez</c>'s <c>.npz</c>) as float32 tensors on
/// the CPU: float32, float64, int32 and int64 arrays in C order, little-endian (NumPy's default everywhere this runs).
/// </summary>
public static partial class NpyFile
{
    const long MaxElements = 1L << 30;

    /// <summary>Reads one <c>.npy</c> file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Truncated, or not an array the reader takes.</exception>
    public static Tensor Read(string path)
    {
        if (!File.Exists(path)) throw new InputNotFoundException($"{path}: file not found", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads every array of a <c>.npz</c> archive, by name (without the <c>.npy</c> suffix).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a zip archive, or an entry that is not a readable array.</exception>
    public static Dictionary<string, Tensor> ReadArchive(string path)
    {
        if (!File.Exists(path)) throw new InputNotFoundException($"{path}: file not found", path);
        ZipArchive archive;
        try { archive = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new InvalidFileException($"{path}: not a .npz archive ({e.Message})", e); }
        using (archive)
        {
            var arrays = new Dictionary<string, Tensor>();
            foreach (var entry in archive.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                buffer.Position = 0;
                arrays[entry.FullName[..^4]] = Read(buffer, $"{path}:{entry.FullName}");
            }
            return arrays;
        }
    }

    static Tensor Read(Stream stream, string name)
    {
        using var reader = new BinaryReader(stream, Encoding.ASCII, leaveOpen: true);
        var magic = reader.ReadBytes(6);
        if (magic.Length < 6 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new InvalidFileException($"{name}: not a .npy array (no NUMPY header)");
        int major = reader.ReadByte();
        reader.ReadByte();
        int headerLength = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
        var header = Encoding.ASCII.GetString(reader.ReadBytes(headerLength));
        string descr = Field(header, "descr", name);
        if (Field(header, "fortran_order", name) != "False")
            throw new InvalidFileException($"{name}: the array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
        var shapeText = ShapePattern().Match(header);
        if (!shapeText.Success) throw new InvalidFileException($"{name}: the header has no shape");
        long[] shape = [.. shapeText.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse)];
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count > MaxElements) throw new InvalidFileException($"{name}: [{string.Join(",", shape)}] is too large ({count} values)");
        int width = descr switch { "<f4" or "<i4" => 4, "<f8" or "<i8" => 8, _ => 0 };
        if (width == 0)
            throw new InvalidFileException($"{name}: arrays of type '{descr}' are not read (little-endian float32, float64, int32 and int64 are)");
        var bytes = reader.ReadBytes(checked((int)(count * width)));
        if (bytes.Length != count * width)
            throw new InvalidFileException($"{name}: truncated: [{string.Join(",", shape)}] needs {count * width} bytes of data, the file holds {bytes.Length}");
        var values = descr switch
        {
            "<f4" => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
            "<f8" => [.. MemoryMarshal.Cast<byte, double>(bytes).ToArray().Select(v => (float)v)],
            "<i4" => [.. MemoryMarshal.Cast<byte, int>(bytes).ToArray().Select(v => (float)v)],
            _ => [.. MemoryMarshal.Cast<byte, long>(bytes).ToArray().Select(v => (float)v)],
        };
        return tensor(values, shape, device: CPU);
    }

    static string Field(string header, string key, string name)
    {
        var match = Regex.Match(header, $"'{key}'\\s*:\\s*('([^']*)'|(\\w+))");
        if (!match.Success) throw new InvalidFileException($"{name}: the header has no '{key}'");
        return match.Groups[2].Success ? match.Groups[2].Value : match.Groups[3].Value;
    }

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
