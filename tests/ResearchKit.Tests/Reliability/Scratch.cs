namespace ResearchKit.Tests.Reliability;

/// <summary>A fresh temporary folder for one test's generated files, deleted on dispose.</summary>
sealed class Scratch : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("rk-reliability-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        string path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Every file below the folder (hidden temporary files included), relative and sorted.</summary>
    public string[] Files() => [.. Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
        .Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal)];

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
