// The first cell of every notebook loads ResearchKit with these two lines:
//
//   #load "../tools/notebooks/kit.csx"
//   await NotebookKit.LoadAsync();
//
// It packs ResearchKit and ResearchKit.Interactive from this repository's sources into the local feed
// artifacts/kit/feed when the feed has no pack of the current sources (a fresh clone, or sources changed), then loads
// the pack into the kernel with #i/#r. Jupyter's .NET kernel and VS Code Polyglot Notebooks both start the kernel in
// notebooks/, which is what the relative #load path relies on.
//
// A pack is named by a hash of the sources' contents (version 0.1.0-local-<hash>), not by their times: a git checkout
// or a fresh clone resets modification times without changing a byte, and the kernel's NuGet cache keeps a version
// once restored, so equal sources may share a version and different sources must not.
#nullable enable
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;

public static class NotebookKit
{
    // What a pack is built from: the packed projects (ResearchKit.Charts ships inside ResearchKit.Interactive) and the
    // repository-wide build settings.
    static readonly string[] SourceFolders = ["src/ResearchKit", "src/ResearchKit.Charts", "src/ResearchKit.Interactive"];
    static readonly string[] SettingsFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json", "NuGet.config", "nuget.config"];
    const string Fix = "install the .NET 10 SDK (https://dot.net/download), make sure `dotnet` is on PATH, then restart the kernel";

    /// <summary>Packs the kit if the feed lacks the current sources' pack, then loads it (once per kernel).</summary>
    public static async Task LoadAsync()
    {
        if (FindRepository() is not { } repo)
        {
            Fail($"ResearchKit's notebooks run inside the repository, but the kernel started in {Environment.CurrentDirectory}: open the notebook from the repository's notebooks/ folder.");
            return;
        }
        string feed = Path.Combine(repo, "artifacts", "kit", "feed");
        string suffix = "local-" + SourceHash(repo);
        string? loaded = LoadedVersion();

        string? version = PackedVersion(feed, suffix);
        if (version is null)
        {
            version = await PackAsync(repo, feed, suffix, rebuilding: loaded is not null);
            if (version is null) return;
        }

        if (loaded == version)
        {
            Console.WriteLine($"ResearchKit {version} is loaded.");
        }
        else if (loaded is not null)
        {
            Console.WriteLine($"This kernel has ResearchKit {loaded} loaded; the sources now give {version}. Restart the kernel and run the notebook again to use it.");
        }
        else
        {
            var result = await Kernel.Root.SendAsync(new SubmitCode($"#i \"nuget: {feed}\"\n#r \"nuget: ResearchKit.Interactive, {version}\"", "csharp"));
            if (result.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed)
                Fail($"ResearchKit {version} did not load: {failed.Message.Trim()}. Delete artifacts/kit, restart the kernel and run this cell again.");
        }
    }

    /// <summary>Runs <c>dotnet pack</c> for the kit under the given version suffix; returns the version, or null after reporting a failure.</summary>
    static async Task<string?> PackAsync(string repo, string feed, string suffix, bool rebuilding)
    {
        Directory.CreateDirectory(feed);
        // One pack at a time, also across notebooks opened side by side; the other one may have packed meanwhile.
        using var gate = await AcquireAsync(Path.Combine(repo, "artifacts", "kit", "pack.lock"));
        if (PackedVersion(feed, suffix) is { } packed) return packed;

        Console.WriteLine(rebuilding
            ? "The kit's sources changed since this kernel loaded it: packing them again (2–4 minutes)..."
            : "Building and packing ResearchKit from src/ for notebooks: 2–4 minutes the first time, then it loads at once...");
        var clock = Stopwatch.StartNew();
        string log = Path.Combine(repo, "artifacts", "kit", "pack.log");
        // Built under artifacts/kit/build, so that the repository's own bin/ and obj/ (and a running test.sh) are untouched.
        string common = $"-c Release -o \"{feed}\" --artifacts-path \"{Path.Combine(repo, "artifacts", "kit", "build")}\" -p:VersionSuffix={suffix} -nologo";
        var (exitCode, output) = await RunDotnetAsync(repo, $"pack src/ResearchKit.Interactive {common}");
        if (exitCode == 0)
        {
            var (libraryExit, libraryOutput) = await RunDotnetAsync(repo, $"pack src/ResearchKit --no-build {common}");
            (exitCode, output) = (libraryExit, output + libraryOutput);
        }
        File.WriteAllText(log, output);

        if (exitCode != 0 || PackedVersion(feed, suffix) is not { } version)
        {
            Fail(exitCode == -1 || output.Contains("No .NET SDKs were found") || output.Contains("compatible .NET SDK was not found")
                ? $"ResearchKit could not be built: no .NET 10 SDK was found; {Fix}."
                : $"ResearchKit did not build: {FirstError(output, repo)} (whole log: artifacts/kit/pack.log). Fix it, then run this cell again.");
            return null;
        }
        foreach (var stale in Directory.EnumerateFiles(feed, "*.nupkg").Where(f => !f.EndsWith($"-{suffix}.nupkg", StringComparison.Ordinal)))
            File.Delete(stale);
        RemoveOldCachedPacks(except: version);
        Console.WriteLine($"Packed ResearchKit {version} in {clock.Elapsed.TotalSeconds:0} s.");
        return version;
    }

    /// <summary>The nearest folder at or above the kernel's working folder that holds the kit's sources.</summary>
    static string? FindRepository()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ResearchKit.sln")) && Directory.Exists(Path.Combine(dir.FullName, "src", "ResearchKit.Interactive")))
                return dir.FullName;
        return null;
    }

    /// <summary>SHA-256 over the relative path and bytes of every source file (bin/ and obj/ left out), first 12 hex digits.</summary>
    static string SourceHash(string repo)
    {
        var files = SettingsFiles.Select(f => Path.Combine(repo, f)).Where(File.Exists)
            .Concat(SourceFolders.SelectMany(folder => FilesUnder(Path.Combine(repo, folder))))
            .Select(f => Path.GetRelativePath(repo, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string file in files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\0"));
            hash.AppendData(File.ReadAllBytes(Path.Combine(repo, file)));
            hash.AppendData(new byte[1]);
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..12].ToLowerInvariant();
    }

    static IEnumerable<string> FilesUnder(string folder) =>
        Directory.EnumerateFiles(folder).Concat(Directory.EnumerateDirectories(folder)
            .Where(d => Path.GetFileName(d) is not ("bin" or "obj"))
            .SelectMany(FilesUnder));

    /// <summary>The version of ResearchKit.Interactive packed under this suffix, if both packages are in the feed.</summary>
    static string? PackedVersion(string feed, string suffix)
    {
        if (!Directory.Exists(feed)) return null;
        string? interactive = Directory.EnumerateFiles(feed, $"ResearchKit.Interactive.*-{suffix}.nupkg").FirstOrDefault();
        if (interactive is null) return null;
        string version = Path.GetFileNameWithoutExtension(interactive)["ResearchKit.Interactive.".Length..];
        return File.Exists(Path.Combine(feed, $"ResearchKit.{version}.nupkg")) ? version : null;
    }

    /// <summary>The ResearchKit.Interactive version this kernel has loaded, if any.</summary>
    static string? LoadedVersion() => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => a.GetName().Name == "ResearchKit.Interactive")
        .Select(a => a.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0])
        .FirstOrDefault();

    static async Task<(int ExitCode, string Output)> RunDotnetAsync(string repo, string arguments)
    {
        var start = new ProcessStartInfo(DotnetPath(), arguments) { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true };
        // The kernel points MSBuild at its own SDK resolution through these; the child finds its SDK by itself.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH").ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout + await stderr);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "");
        }
    }

    /// <summary>The dotnet that runs this kernel when it is the dotnet host, else the one on PATH.</summary>
    static string DotnetPath()
    {
        string? host = Environment.ProcessPath;
        return host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
    }

    /// <summary>The first compiler or MSBuild error, with paths relative to the repository and without the project suffix.</summary>
    static string FirstError(string output, string repo)
    {
        var lines = output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        string line = lines.FirstOrDefault(l => l.Contains(": error ") || l.StartsWith("error", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "dotnet pack failed";
        int project = line.LastIndexOf(" [", StringComparison.Ordinal);
        return (project > 0 && line.EndsWith(']') ? line[..project] : line).Replace(repo + Path.DirectorySeparatorChar, "");
    }

    // Each pack has its own version, and every restored version stays in the NuGet cache (about 10 MB each). Only
    // those untouched for a day go: a kernel still running elsewhere (another notebook, another checkout) may load
    // files of its version lazily (charts/), and a deleted one comes back from its feed on the next load anyway.
    static void RemoveOldCachedPacks(string except)
    {
        string? configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        string cache = !string.IsNullOrEmpty(configured) ? configured : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "researchkit", "researchkit.interactive" })
        {
            string folder = Path.Combine(cache, id);
            if (!Directory.Exists(folder)) continue;
            foreach (string old in Directory.EnumerateDirectories(folder, "*-local*")
                .Where(d => Path.GetFileName(d) != except.ToLowerInvariant() && Directory.GetLastWriteTimeUtc(d) < DateTime.UtcNow.AddDays(-1)))
                Directory.Delete(old, recursive: true);
        }
    }

    static async Task<FileStream> AcquireAsync(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (attempt == 0) { Console.WriteLine("Another notebook is packing the kit; waiting for it..."); }
            catch (IOException) { }
            await Task.Delay(2000);
        }
    }

    /// <summary>Fails the running cell with one line (no stack trace), so that Run All stops here.</summary>
    static void Fail(string message) =>
        KernelInvocationContext.Current.Fail(KernelInvocationContext.Current.Command, message: message);
}
