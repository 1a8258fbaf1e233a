using ResearchKit.Native;

namespace ResearchKit.Tests.Native;

public sealed class ElfVersionPatcherTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-elf-").FullName;
    readonly string _original = TorchRuntime.EnsureLoaded().Bindings
        ?? throw new InvalidOperationException("TorchSharp's native bindings were not found");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Marks_the_GLIBCXX_3_4_32_need_weak_and_changes_nothing_else()
    {
        var before = ElfFile.Read(_original);
        var need = Assert.Single(before.VersionNeeds, n => n.Name == "GLIBCXX_3.4.32");
        Assert.False(need.IsWeak);
        Assert.Equal(["_ZSt21ios_base_library_initv"], before.SymbolsWithVersion(need.Index));

        var patched = Path.Combine(_folder, "patched.so");
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.MarkWeak(_original, patched, ["GLIBCXX_3.4.32"]));

        var after = ElfFile.Read(patched);
        Assert.True(after.VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        Assert.All(after.VersionNeeds.Where(n => n.Name != "GLIBCXX_3.4.32"),
            n => Assert.Equal(before.VersionNeeds.Single(b => b.File == n.File && b.Name == n.Name).Flags, n.Flags));
        var a = File.ReadAllBytes(_original);
        var b = File.ReadAllBytes(patched);
        Assert.Equal(a.Length, b.Length);
        var differing = Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToList();
        Assert.NotEmpty(differing);
        Assert.All(differing, i => Assert.InRange(i, need.FlagsOffset, need.FlagsOffset + 1));
    }

    [Fact]
    public void Patching_is_idempotent_and_never_touches_the_source()
    {
        var sourceBytes = File.ReadAllBytes(_original);
        var once = Path.Combine(_folder, "once.so");
        var twice = Path.Combine(_folder, "twice.so");
        ElfVersionPatcher.MarkWeak(_original, once, ["GLIBCXX_3.4.32"]);
        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatcher.MarkWeak(once, twice, ["GLIBCXX_3.4.32"]));
        Assert.Equal(File.ReadAllBytes(once), File.ReadAllBytes(twice));
        Assert.Equal(sourceBytes, File.ReadAllBytes(_original));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp*"));
    }

    [Fact]
    public void Refuses_to_weaken_a_version_whose_symbols_are_relocated()
    {
        var elf = ElfFile.Read(_original);
        var relocated = elf.RelocatedSymbols();
        var used = elf.VersionNeeds.First(n => n.File.StartsWith("libstdc++") && elf.SymbolsWithVersion(n.Index).Any(relocated.Contains));
        var error = Assert.Throws<InvalidOperationException>(() =>
            ElfVersionPatcher.MarkWeak(_original, Path.Combine(_folder, "bad.so"), [used.Name]));
        Assert.Contains(used.Name, error.Message);
        Assert.False(File.Exists(Path.Combine(_folder, "bad.so")));
    }

    [Fact]
    public void Reads_version_definitions_of_the_system_libstdcxx()
    {
        var libstdcxx = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 6 && p[5].Contains("libstdc++.so")).Select(p => p[5]).First();
        var definitions = ElfFile.Read(libstdcxx).VersionDefinitions;
        Assert.Contains("GLIBCXX_3.4", definitions);
        Assert.Contains("CXXABI_1.3", definitions);
    }
}
