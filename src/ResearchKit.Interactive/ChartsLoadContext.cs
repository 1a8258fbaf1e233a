using System.Reflection;
using System.Runtime.Loader;

namespace ResearchKit.Interactive;

/// <summary>
/// Loads ResearchKit.Charts, Plotly.NET and the FSharp.Core they need from the package's <c>charts/</c> folder, apart
/// from whatever the host process has loaded (the Jupyter .NET kernel carries an older FSharp.Core). Only framework
/// assemblies are shared with the default context, so calls across the boundary use framework types alone.
/// </summary>
sealed class ChartsLoadContext(string folder) : AssemblyLoadContext("ResearchKit.Charts", isCollectible: false)
{
    public string Folder { get; } = folder;

    protected override Assembly? Load(AssemblyName name)
    {
        string path = Path.Combine(Folder, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    /// <summary>
    /// The <c>charts/</c> folder: beside this assembly in a build output, or at the package root when the assembly is
    /// loaded from <c>lib/&lt;tfm&gt;/</c> of the NuGet package.
    /// </summary>
    public static string FindFolder()
    {
        string here = Path.GetDirectoryName(typeof(ChartsLoadContext).Assembly.Location)
            ?? throw new ChartsUnavailableException("ResearchKit.Interactive was loaded from memory, so its charts/ folder cannot be found.");
        string[] candidates = [Path.Combine(here, "charts"), Path.GetFullPath(Path.Combine(here, "..", "..", "charts"))];
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "ResearchKit.Charts.dll")))
            ?? throw new ChartsUnavailableException(
                $"ResearchKit.Charts.dll was not found in {string.Join(" or ", candidates)}; the ResearchKit.Interactive build or package is incomplete.");
    }
}

/// <summary>The isolated charts assemblies could not be found or loaded.</summary>
public sealed class ChartsUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
