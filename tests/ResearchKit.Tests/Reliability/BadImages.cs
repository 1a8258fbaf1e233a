using System.Buffers.Binary;
using System.Text;
using ResearchKit.Imaging;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Reliability;

/// <summary>Valid and broken image files, generated: nothing is checked in.</summary>
static class BadImages
{
    /// <summary>A smooth seeded image (gradients plus a little noise), so that JPEG keeps it small.</summary>
    public static byte[] Valid(string extension, int size = 24, int seed = 7)
    {
        using var scope = NewDisposeScope();
        var ramp = linspace(0, 1, size);
        var noise = rand([1, 3, size, size], generator: new Generator((ulong)seed)) * 0.2;
        var image = (stack([ramp.unsqueeze(1).expand(size, size), ramp.unsqueeze(0).expand(size, size), full([size, size], 0.5)]).unsqueeze(0) * 0.8 + noise).clamp(0, 1);
        var encoded = ImageIO.EncodePng(image);
        if (extension == ".png") return encoded;
        var path = Path.Combine(Path.GetTempPath(), $"rk-valid-{Guid.NewGuid():N}{extension}");
        try
        {
            ImageIO.Save(image, path);
            return File.ReadAllBytes(path);
        }
        finally { File.Delete(path); }
    }

    /// <summary>The cases every image reader must refuse, with a fragment of the message that names the problem.</summary>
    public static TheoryData<string, string, string> Cases => new()
    {
        { "corrupt", "corrupt.png", "damaged or cut off (CRC Error. PNG IDAT chunk is corrupt" },
        { "truncated", "truncated.jpg", "JPEG file is truncated" },
        { "zero-byte", "empty.png", "empty (0 bytes)" },
        { "text named .png", "notes.png", "not in a known image format" },
        { "huge declared size", "huge.png", "60000×60000 pixels" },
    };

    public static byte[] Make(string name) => name switch
    {
        "corrupt" => Corrupt(),
        "truncated" => Valid(".jpg")[..^40],
        "zero-byte" => [],
        "text named .png" => Encoding.UTF8.GetBytes("these are notes, not pixels\n"),
        "huge declared size" => PngHeader(60000, 60000),
        _ => throw new ArgumentException(name),
    };

    // The compressed pixel data of a valid PNG, scrambled (the chunk structure and its end marker stay intact).
    static byte[] Corrupt()
    {
        var bytes = Valid(".png", size: 48);
        int idat = bytes.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 6; i < idat + 40; i++) bytes[i] ^= 0xA5;
        return bytes;
    }

    /// <summary>A PNG signature and an IHDR chunk declaring the size, with no pixel data: enough for the size check.</summary>
    public static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8;  // bit depth
        ihdr[13] = 2;  // truecolour
        var png = new List<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        png.AddRange(ihdr);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(ihdr));
        png.AddRange(crc);
        return [.. png];
    }

    /// <summary>A valid JPEG whose frame header (SOF0) claims another size.</summary>
    public static byte[] JpegClaiming(int width, int height)
    {
        var bytes = Valid(".jpg");
        int sof = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 7), (ushort)width);
        return bytes;
    }

    /// <summary>Recomputes the checksum of every complete chunk of a PNG, so that a mutation reaches the decoder
    /// instead of stopping at the checksum test.</summary>
    public static byte[] WithPngChecksums(byte[] png)
    {
        for (long at = 8; at + 12 <= png.Length;)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan((int)at));
            if (at + 12 + length > png.Length) break;
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan((int)(at + 8 + length)), Crc32(png.AsSpan((int)at + 4, (int)length + 4)));
            at += 12 + length;
        }
        return png;
    }

    static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
