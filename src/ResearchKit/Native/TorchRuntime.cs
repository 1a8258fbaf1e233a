using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ResearchKit.Native;

/// <summary>
/// Loads TorchSharp's native libraries so that they work on stock Linux distributions.
/// <para>
/// TorchSharp 0.107.0's <c>libLibTorchSharp.so</c> declares a need for <c>GLIBCXX_3.4.32</c> (GCC 13), which Debian 12
/// and Ubuntu 22.04 lack, although no relocation uses a symbol of that version. When the process's libstdc++ lacks a
/// version the library needs, a copy with those needs marked weak is written to ResearchKit's own cache folder and
/// loaded from there; the original files are never modified. The libtorch libraries are loaded by full path first, so
/// a system libtorch (Debian's <c>libtorch-dev</c>) cannot shadow the one TorchSharp was built against.
/// </para>
/// Everything in ResearchKit calls <see cref="EnsureLoaded"/> before its first tensor; call it yourself before
/// using TorchSharp directly.
/// </summary>
public static class TorchRuntime
{
    const string TorchSharpNative = "libLibTorchSharp.so";
    static readonly string[] LibTorchInLoadOrder = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];
    static readonly Lock Gate = new();
    static TorchRuntimeReport? _report;
    static Exception? _failure;

    /// <summary>What the loader found and did (null before the first call).</summary>
    public static TorchRuntimeReport? Report => _report;

    // Runs when ResearchKit is first touched, so that notebooks and scripts that go on to call TorchSharp directly
    // find it working; a failure is kept and reported by the next EnsureLoaded call rather than thrown from here.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void LoadWithAssembly()
    {
        try { EnsureLoaded(); }
        catch (Exception e) { _failure = e; }
    }

    /// <summary>Makes TorchSharp's natives loadable; a no-op after the first call and on non-Linux systems.</summary>
    public static TorchRuntimeReport EnsureLoaded()
    {
        lock (Gate)
        {
            if (_failure is not null) throw new TorchLoadException(_failure.Message, _failure);
            if (_report is not null) return _report;
            Benchmarks.Startup.Mark("runtime: load begins");
            try { _report = Load(); }
            catch (Exception e) when (e is not TorchLoadException)
            {
                _failure = e;
                throw new TorchLoadException($"TorchSharp's native libraries could not be loaded: {e.Message}", e);
            }
            Benchmarks.Startup.Mark("runtime: loaded");
            return _report;
        }
    }

    static TorchRuntimeReport Load()
    {
        if (!OperatingSystem.IsLinux())
            return new TorchRuntimeReport(null, null, [], null, "not Linux: TorchSharp's own loader is used");

        var torchSharp = typeof(TorchSharp.torch).Assembly;
        string? libTorchDir = CandidateDirectories(torchSharp, "libtorch-cpu-linux-x64", LibTorchVersion)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "libtorch_cpu.so")));
        string? bindings = CandidateDirectories(torchSharp, "torchsharp", PackageVersion(torchSharp))
            .Select(d => Path.Combine(d, TorchSharpNative)).FirstOrDefault(File.Exists);
        if (libTorchDir is null || bindings is null)
            return new TorchRuntimeReport(libTorchDir, bindings, [], null, "natives not found here: TorchSharp's own loader is used");

        foreach (var lib in LibTorchInLoadOrder)
            NativeLibrary.Load(Path.Combine(libTorchDir, lib));
        ChooseConvolutionKernels(NativeLibrary.Load(Path.Combine(libTorchDir, "libtorch_cpu.so")));
        Benchmarks.Startup.Mark("runtime: libtorch loaded");

        string libstdcxx = LoadedLibStdCxx();
        var provided = ElfFile.Read(libstdcxx).VersionDefinitions.ToHashSet(StringComparer.Ordinal);
        var missing = ElfFile.Read(bindings).VersionNeeds
            .Where(n => n.File.StartsWith("libstdc++", StringComparison.Ordinal) && !n.IsWeak && !provided.Contains(n.Name))
            .Select(n => n.Name).ToList();

        string loaded = bindings, note = $"{libstdcxx} provides every version {TorchSharpNative} needs; nothing patched";
        if (missing.Count > 0)
        {
            loaded = PatchedCopy(bindings, missing);
            note = $"{libstdcxx} lacks {string.Join(", ", missing)}; loaded a copy with those needs marked weak: {loaded}";
        }
        var handle = NativeLibrary.Load(loaded);
        // TorchSharp probes "LibTorchSharp" by name; the copy is already in the process under that soname,
        // and this resolver hands the same handle to TorchSharp's P/Invokes.
        try { NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) => name == "LibTorchSharp" ? handle : IntPtr.Zero); }
        catch (InvalidOperationException) { /* another component set a resolver; the soname match still applies */ }
        return new TorchRuntimeReport(libTorchDir, bindings, missing, missing.Count > 0 ? loaded : null, note);
    }

    static string PatchedCopy(string bindings, IReadOnlyCollection<string> versions)
    {
        var info = new FileInfo(bindings);
        string key = $"{info.Length:x}-{info.LastWriteTimeUtc.Ticks:x}";
        string target = Path.Combine(CacheFolder(), "native", $"torchsharp-{key}", TorchSharpNative);
        if (File.Exists(target))
        {
            var needs = ElfFile.Read(target).VersionNeeds;
            if (versions.All(v => needs.Any(n => n.Name == v && n.IsWeak))) return target;
        }
        ElfVersionPatcher.MarkWeak(bindings, target, versions);
        return target;
    }

    /// <summary>ResearchKit's cache folder: <c>$RESEARCHKIT_CACHE</c>, else <c>$XDG_CACHE_HOME/researchkit</c>, else <c>~/.cache/researchkit</c>.</summary>
    public static string CacheFolder()
    {
        string? explicitFolder = Environment.GetEnvironmentVariable("RESEARCHKIT_CACHE");
        if (!string.IsNullOrEmpty(explicitFolder)) return explicitFolder;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "researchkit");
    }

    /// <summary>
    /// Folders where the natives may be, in the order TorchSharp itself would use them: the application's native
    /// search folders (from its deps.json), the folders beside TorchSharp.dll, then the NuGet package folder.
    /// </summary>
    static IEnumerable<string> CandidateDirectories(Assembly torchSharp, string package, string version)
    {
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            foreach (var dir in searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                yield return dir;
        string beside = Path.GetDirectoryName(torchSharp.Location) ?? AppContext.BaseDirectory;
        yield return Path.Combine(beside, "runtimes", "linux-x64", "native");
        yield return beside;
        yield return Path.Combine(NuGetPackagesFolder(), package, version, "runtimes", "linux-x64", "native");
    }

    internal static string NuGetPackagesFolder()
    {
        string? configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        return !string.IsNullOrEmpty(configured)
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    static string PackageVersion(Assembly assembly)
    {
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return NuGetFolderVersion((informational ?? assembly.GetName().Version!.ToString(3)).Split('+')[0]);
    }

    /// <summary>The libtorch version TorchSharp was built against, read as a constant: touching torch.__version__
    /// would run torch's static constructor, which loads the natives.</summary>
    internal static string LibTorchVersion => NuGetFolderVersion((string)typeof(TorchSharp.torch)
        .GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!);

    // NuGet folders drop a fourth version part of 0 ("2.10.0.0" is stored as "2.10.0").
    static string NuGetFolderVersion(string version)
    {
        var parts = version.Split('-', 2);
        var numbers = parts[0].Split('.');
        if (numbers.Length == 4 && numbers[3] == "0") numbers = numbers[..3];
        return string.Join('.', numbers) + (parts.Length > 1 ? "-" + parts[1] : "");
    }

    /// <summary>The libstdc++ this process uses (the runtime itself links it, so it is already mapped).</summary>
    static string LoadedLibStdCxx()
    {
        string? Find() => File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is var i and >= 0 ? line[i..] : null)
            .FirstOrDefault(p => p is not null && Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal));
        if (Find() is { } mapped) return mapped;
        NativeLibrary.Load("libstdc++.so.6");
        return Find() ?? throw new TorchLoadException("libstdc++.so.6 is not mapped into the process after loading it");
    }

    // libtorch 2.10's oneDNN convolutions give wrong results on this class of CPU for some channel counts (e.g. f32
    // input gradients of stride-2 convolutions with 48 input channels, forward passes with 24), while libtorch's own
    // kernels are exact. oneDNN is therefore off process-wide, so that code using TorchSharp directly stays correct;
    // OneDnn.Use(true) turns it on around work whose convolutions passed ConvolutionAudit. NNPACK stays off: it cannot
    // initialize on this CPU, and libtorch would retry it, and print a warning, on every convolution.
    static unsafe void ChooseConvolutionKernels(IntPtr libTorchCpu)
    {
        _context = ((delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(libTorchCpu, "_ZN2at13globalContextEv"))();
        _setMkldnn = (IntPtr)NativeLibrary.GetExport(libTorchCpu, "_ZN2at7Context20setUserEnabledMkldnnEb");
        SetOneDnn(false);
        ((delegate* unmanaged<IntPtr, byte, void>)NativeLibrary.GetExport(libTorchCpu, "_ZN2at7Context20setUserEnabledNNPACKEb"))(_context, 0);
    }

    static IntPtr _context, _setMkldnn;

    /// <summary>Switches libtorch's oneDNN kernels on or off for the whole process (see <see cref="OneDnn"/>).</summary>
    internal static unsafe void SetOneDnn(bool enabled)
    {
        if (_setMkldnn == IntPtr.Zero) return;
        ((delegate* unmanaged<IntPtr, byte, void>)_setMkldnn)(_context, enabled ? (byte)1 : (byte)0);
    }
}

/// <summary>What <see cref="TorchRuntime.EnsureLoaded"/> found and did.</summary>
/// <param name="LibTorchFolder">Where libtorch was loaded from.</param>
/// <param name="Bindings">The original <c>libLibTorchSharp.so</c>.</param>
/// <param name="WeakenedVersions">Versions marked weak in the loaded copy (empty when nothing was patched).</param>
/// <param name="PatchedCopy">The patched copy that was loaded, or null.</param>
/// <param name="Note">One line for logs.</param>
public sealed record TorchRuntimeReport(string? LibTorchFolder, string? Bindings, IReadOnlyList<string> WeakenedVersions, string? PatchedCopy, string Note);

/// <summary>TorchSharp's native libraries could not be loaded.</summary>
public sealed class TorchLoadException(string message, Exception? inner = null) : UserErrorException(message, inner);
