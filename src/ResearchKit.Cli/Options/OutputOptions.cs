using System.CommandLine;
using ResearchKit.IO;

namespace ResearchKit.Cli.Options;

/// <summary>Where results go, and the one overwrite rule: nothing is replaced without <c>--force</c>, checked before any work starts.</summary>
static class OutputOptions
{
    public static readonly Option<bool> Force = new("--force") { Description = "Overwrite existing outputs", Recursive = true };

    /// <summary>A command's <c>--out</c>.</summary>
    public static Option<string> Out(string description) => new("--out") { Description = description, Required = true };

    /// <summary>Whether <c>--force</c> was given.</summary>
    public static bool Overwrite(ParseResult parse) => parse.GetValue(Force);

    /// <summary>Refuses, before any work, when one of <paramref name="paths"/> exists and <c>--force</c> was not given.</summary>
    public static void EnsureWritable(ParseResult parse, params IEnumerable<string?> paths) => Outputs.EnsureWritable(Overwrite(parse), paths);

    /// <summary>Refuses unless the image and its JSON sidecar may be written.</summary>
    public static void EnsureWritableWithSidecar(ParseResult parse, string path) => EnsureWritable(parse, path, Sidecar.PathFor(path));
}
