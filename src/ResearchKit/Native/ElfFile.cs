using System.Buffers.Binary;
using System.Text;

namespace ResearchKit.Native;

/// <summary>One version a shared object needs from one of its dependencies (an entry of <c>.gnu.version_r</c>).</summary>
/// <param name="File">The dependency's soname, e.g. <c>libstdc++.so.6</c>.</param>
/// <param name="Name">The version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Index">The version index that <c>.gnu.version</c> entries use to point at this version.</param>
/// <param name="Flags">The Vernaux flags (<see cref="ElfFile.VerFlagWeak"/> marks a weak need).</param>
/// <param name="FlagsOffset">File offset of the two-byte <c>vna_flags</c> field.</param>
public sealed record ElfVersionNeed(string File, string Name, int Index, ushort Flags, long FlagsOffset)
{
    public bool IsWeak => (Flags & ElfFile.VerFlagWeak) != 0;
}

/// <summary>
/// A read-only view of a 64-bit little-endian ELF shared object: just the symbol-versioning structures
/// (<c>.gnu.version_r</c>, <c>.gnu.version_d</c>, <c>.gnu.version</c>), the dynamic symbols and the relocations.
/// Enough to decide whether a version need can be weakened safely, and where its flag lives in the file.
/// </summary>
public sealed class ElfFile
{
    public const ushort VerFlagWeak = 0x2;

    const uint ShtRela = 4, ShtDynsym = 11, ShtRel = 9;
    const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;

    readonly byte[] _data;
    readonly Section[] _sections;

    readonly record struct Section(uint Type, long Offset, long Size, uint Link, long EntrySize);

    ElfFile(string path, byte[] data)
    {
        Path = path;
        _data = data;
        if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            throw new InvalidDataException($"{path}: not an ELF file");
        if (data[4] != 2 || data[5] != 1)
            throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported");

        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > data.Length)
            throw new InvalidDataException($"{path}: section header table lies outside the file");
        _sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            var s = new Section(U32(h + 4), (long)U64(h + 24), (long)U64(h + 32), U32(h + 40), (long)U64(h + 56));
            if (s.Offset < 0 || s.Size < 0 || (s.Type != 8 /* NOBITS */ && s.Offset + s.Size > data.Length))
                throw new InvalidDataException($"{path}: section {i} lies outside the file");
            _sections[i] = s;
        }
        VersionNeeds = ReadVersionNeeds();
        VersionDefinitions = ReadVersionDefinitions();
    }

    public string Path { get; }

    /// <summary>Every version this object needs, in file order.</summary>
    public IReadOnlyList<ElfVersionNeed> VersionNeeds { get; }

    /// <summary>Every version this object defines (for a library such as libstdc++: the versions it provides).</summary>
    public IReadOnlyList<string> VersionDefinitions { get; }

    public static ElfFile Read(string path) => new(path, File.ReadAllBytes(path));

    public static ElfFile Parse(string path, byte[] bytes) => new(path, bytes);

    /// <summary>Names of the dynamic symbols bound to version index <paramref name="versionIndex"/>.</summary>
    public IReadOnlyList<string> SymbolsWithVersion(int versionIndex)
    {
        var result = new List<string>();
        var (dynsym, versym) = (FindSection(ShtDynsym), FindSection(ShtGnuVersym));
        if (dynsym is null || versym is null) return result;
        var strtab = _sections[dynsym.Value.Link];
        long count = dynsym.Value.Size / 24;
        for (long i = 0; i < count && 2 * i + 1 < versym.Value.Size; i++)
            if ((U16(versym.Value.Offset + 2 * i) & 0x7fff) == versionIndex)
                result.Add(CString(strtab, U32(dynsym.Value.Offset + 24 * i)));
        return result;
    }

    /// <summary>Dynamic symbols referenced by at least one relocation (REL or RELA against the dynamic symbol table).</summary>
    public ISet<string> RelocatedSymbols()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        int dynsymIndex = Array.FindIndex(_sections, s => s.Type == ShtDynsym);
        if (dynsymIndex < 0) return result;
        var dynsym = _sections[dynsymIndex];
        var strtab = _sections[dynsym.Link];
        foreach (var s in _sections.Where(s => (s.Type == ShtRela || s.Type == ShtRel) && s.Link == dynsymIndex))
        {
            long entry = s.Type == ShtRela ? 24 : 16;
            for (long r = s.Offset; r + entry <= s.Offset + s.Size; r += entry)
            {
                long sym = (long)(U64(r + 8) >> 32);
                if (sym != 0 && sym * 24 < dynsym.Size)
                    result.Add(CString(strtab, U32(dynsym.Offset + 24 * sym)));
            }
        }
        return result;
    }

    List<ElfVersionNeed> ReadVersionNeeds()
    {
        var result = new List<ElfVersionNeed>();
        var section = FindSection(ShtGnuVerneed);
        if (section is null) return result;
        var strtab = _sections[section.Value.Link];
        long end = section.Value.Offset + section.Value.Size;
        long vn = section.Value.Offset;
        for (int guard = 0; guard < 10_000; guard++)
        {
            Check(vn + 16 <= end, "version-need entry");
            string file = CString(strtab, U32(vn + 4));
            int count = U16(vn + 2);
            long aux = vn + U32(vn + 8);
            for (int k = 0; k < count; k++)
            {
                Check(aux + 16 <= end, "version-need auxiliary entry");
                result.Add(new ElfVersionNeed(file, CString(strtab, U32(aux + 8)), U16(aux + 6), U16(aux + 4), aux + 4));
                aux += U32(aux + 12);
            }
            uint next = U32(vn + 12);
            if (next == 0) break;
            vn += next;
        }
        return result;
    }

    List<string> ReadVersionDefinitions()
    {
        var result = new List<string>();
        var section = FindSection(ShtGnuVerdef);
        if (section is null) return result;
        var strtab = _sections[section.Value.Link];
        long end = section.Value.Offset + section.Value.Size;
        long vd = section.Value.Offset;
        for (int guard = 0; guard < 10_000; guard++)
        {
            Check(vd + 20 <= end, "version-definition entry");
            long aux = vd + U32(vd + 12);
            Check(aux + 8 <= end, "version-definition auxiliary entry");
            result.Add(CString(strtab, U32(aux)));
            uint next = U32(vd + 16);
            if (next == 0) break;
            vd += next;
        }
        return result;
    }

    Section? FindSection(uint type)
    {
        foreach (var s in _sections)
            if (s.Type == type) return s;
        return null;
    }

    string CString(Section strtab, uint offset)
    {
        long start = strtab.Offset + offset;
        Check(offset < strtab.Size, "string table reference");
        long end = start;
        while (end < strtab.Offset + strtab.Size && _data[end] != 0) end++;
        return Encoding.ASCII.GetString(_data, (int)start, (int)(end - start));
    }

    void Check(bool ok, string what)
    {
        if (!ok) throw new InvalidDataException($"{Path}: {what} lies outside its section");
    }

    ushort U16(long at) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan((int)at, 2));
    uint U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan((int)at, 4));
    ulong U64(long at) => BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan((int)at, 8));
}
