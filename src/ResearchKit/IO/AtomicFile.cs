namespace ResearchKit.IO;

/// <summary>
/// Writes files so that a reader never sees half of one: the bytes go to a temporary file in the same folder,
/// which is then renamed over the destination. A crash or cancellation leaves either the old file or the new one.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="write"/>'s output to <paramref name="path"/> atomically.</summary>
    /// <param name="overwrite">When false, an existing file is an error (<see cref="OutputExistsException"/>).</param>
    public static void Write(string path, Action<Stream> write, bool overwrite = true)
    {
        string full = Path.GetFullPath(path);
        Outputs.EnsureWritable(overwrite, full);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes, bool overwrite = true) =>
        Write(path, s => s.Write(bytes), overwrite);

    public static void WriteAllText(string path, string text, bool overwrite = true) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text), overwrite);
}

/// <summary>The one overwrite policy: outputs are never replaced unless asked (<c>--force</c>, <c>overwrite: true</c>).</summary>
public static class Outputs
{
    /// <summary>
    /// Throws for the first of <paramref name="paths"/> that exists unless <paramref name="overwrite"/>: call it before
    /// starting work, so a refused run costs nothing.
    /// </summary>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public static void EnsureWritable(bool overwrite, params IEnumerable<string?> paths)
    {
        if (overwrite) return;
        foreach (var path in paths)
            if (path is not null && File.Exists(path)) throw new OutputExistsException(Path.GetFullPath(path));
    }
}

/// <summary>An output file exists and overwriting was not asked for.</summary>
public sealed class OutputExistsException(string path)
    : UserErrorException($"{path} exists; pass --force (or overwrite: true) to replace it")
{
    public string FilePath { get; } = path;
}
