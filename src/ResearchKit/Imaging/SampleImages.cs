using static TorchSharp.torch;

namespace ResearchKit.Imaging;

/// <summary>
/// The public-domain sample photos in the repository's <c>data/</c> folder (provenance in its README.md).
/// The folder is found, in order, at <c>$RESEARCHKIT_DATA</c>, at <c>data/</c> next to the running program (builds
/// copy it there), and in a <c>data/</c> folder above the program or the current directory.
/// </summary>
public static class SampleImages
{
    /// <summary>Environment variable that names the sample folder explicitly.</summary>
    public const string EnvironmentVariable = "RESEARCHKIT_DATA";

    /// <summary>The first line of data/README.md; marks a folder as ResearchKit's sample folder.</summary>
    internal const string Marker = "<!-- researchkit:sample-images";

    /// <summary>Names of the samples, as accepted by <see cref="Path"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["astronaut", "chelsea", "coffee", "rocket", "hubble", "retina"];

    /// <summary>The sample folder.</summary>
    /// <exception cref="DirectoryNotFoundException">No sample folder was found; the message lists where it looked.</exception>
    public static string Folder => Locate(Environment.GetEnvironmentVariable(EnvironmentVariable),
        [AppContext.BaseDirectory, Directory.GetCurrentDirectory()]);

    /// <summary>Full paths of all samples, in <see cref="Names"/> order.</summary>
    public static IReadOnlyList<string> All
    {
        get
        {
            string folder = Folder;
            return Names.Select(name => FileIn(folder, name)).ToList();
        }
    }

    /// <summary>The full path of one sample, e.g. <c>SampleImages.Path("chelsea")</c>.</summary>
    public static string Path(string name)
    {
        if (!Names.Contains(name))
            throw new InvalidSettingException($"There is no sample image '{name}'; the samples are: {string.Join(", ", Names)}.", nameof(name));
        return FileIn(Folder, name);
    }

    /// <summary>Loads one sample as a [1,3,H,W] tensor (see <see cref="ImageIO.Load"/> for resizing).</summary>
    public static Tensor Load(string name, int? width = null, int? height = null) => ImageIO.Load(Path(name), width, height);

    static string FileIn(string folder, string name) => System.IO.Path.Combine(folder, name + ".jpg");

    /// <summary>Finds the sample folder: the explicit one if given, else <c>data/</c> in or above each start folder.</summary>
    internal static string Locate(string? explicitFolder, IEnumerable<string> startFolders)
    {
        if (!string.IsNullOrEmpty(explicitFolder))
            return IsSampleFolder(explicitFolder)
                ? System.IO.Path.GetFullPath(explicitFolder)
                : throw new InputNotFoundException(
                    $"{EnvironmentVariable}={explicitFolder} does not name ResearchKit's sample folder (a folder holding its README.md and {string.Join(", ", Names.Select(n => n + ".jpg"))}).");

        var tried = new List<string>();
        foreach (string start in startFolders)
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = System.IO.Path.Combine(dir.FullName, "data");
                if (tried.Contains(candidate)) continue;
                tried.Add(candidate);
                if (IsSampleFolder(candidate)) return candidate;
            }
        throw new InputNotFoundException(
            $"ResearchKit's sample images were not found. Looked for a data/ folder in and above {string.Join(" and ", startFolders)}. " +
            $"Set {EnvironmentVariable} to the repository's data folder.");
    }

    static bool IsSampleFolder(string folder)
    {
        string readme = System.IO.Path.Combine(folder, "README.md");
        if (!File.Exists(readme)) return false;
        using (var reader = new StreamReader(readme))
            if (reader.ReadLine()?.StartsWith(Marker, StringComparison.Ordinal) != true) return false;
        return Names.All(name => File.Exists(FileIn(folder, name)));
    }
}
