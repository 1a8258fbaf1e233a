using System.Buffers.Binary;

namespace ResearchKit.Native;

/// <summary>What <see cref="ElfVersionPatcher.MarkWeak"/> did.</summary>
public enum ElfPatchOutcome
{
    /// <summary>The versions were strong needs and are now weak in the destination file.</summary>
    Patched,
    /// <summary>Every named version was weak already; the destination is a plain copy.</summary>
    AlreadyWeak,
}

/// <summary>
/// Marks version needs of a shared object weak (<c>VER_FLG_WEAK</c> in <c>.gnu.version_r</c>), so the dynamic
/// loader accepts a dependency that lacks that version. This is only sound when no relocation binds a symbol
/// of that version: the patcher checks that and refuses otherwise.
/// </summary>
public static class ElfVersionPatcher
{
    /// <summary>
    /// Writes a copy of <paramref name="source"/> to <paramref name="destination"/> (atomically: temp file + rename)
    /// with each version in <paramref name="versions"/> marked weak. The source is never modified.
    /// </summary>
    /// <exception cref="InvalidOperationException">A version is not needed by the file, or a relocation uses one of its symbols.</exception>
    public static ElfPatchOutcome MarkWeak(string source, string destination, IReadOnlyCollection<string> versions)
    {
        byte[] bytes = File.ReadAllBytes(source);
        var elf = ElfFile.Parse(source, bytes);
        var relocated = elf.RelocatedSymbols();
        bool changed = false;
        foreach (var version in versions)
        {
            var need = elf.VersionNeeds.FirstOrDefault(n => n.Name == version)
                ?? throw new InvalidOperationException($"{source} does not need version {version}; needs: {string.Join(", ", elf.VersionNeeds.Select(n => n.Name))}");
            if (need.IsWeak) continue;
            var used = elf.SymbolsWithVersion(need.Index).Where(relocated.Contains).ToList();
            if (used.Count > 0)
                throw new InvalidOperationException(
                    $"{source}: cannot weaken {version}; relocations use its symbols {string.Join(", ", used)}, so the library really needs a libstdc++ that provides it");
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((int)need.FlagsOffset, 2), (ushort)(need.Flags | ElfFile.VerFlagWeak));
            changed = true;
        }
        IO.AtomicFile.WriteAllBytes(destination, bytes);
        return changed ? ElfPatchOutcome.Patched : ElfPatchOutcome.AlreadyWeak;
    }
}
