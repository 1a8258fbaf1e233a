namespace ResearchKit.Imaging;

/// <summary>An image file could not be read: it is missing, empty, truncated, not an image, or too large.</summary>
public sealed class ImageLoadException : UserErrorException
{
    internal ImageLoadException(string path, string problem, Exception? inner = null)
        : base($"Cannot load image '{path}': {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file that failed to load.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong with it, without the file name.</summary>
    public string Problem { get; }
}
