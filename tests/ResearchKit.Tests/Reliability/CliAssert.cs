using ResearchKit.Tests.Cli;

namespace ResearchKit.Tests.Reliability;

/// <summary>What a clean command-line failure looks like: exit code 1, one <c>error: ...</c> line, no stack trace, no output.</summary>
static class CliAssert
{
    /// <summary>
    /// Runs the real CLI in <paramref name="scratch"/> and checks the failure; every one of <paramref name="mentions"/>
    /// must appear in the error line, and the folder must hold exactly the files it held before (no partial outputs,
    /// no temporary files).
    /// </summary>
    public static string Fails(Scratch scratch, string[] args, params string[] mentions)
    {
        var before = scratch.Files();
        var (code, output, error) = CliProcess.Run(scratch.Path, args);
        Assert.True(code == 1, $"exit code {code} for `{string.Join(" ", args)}`; stderr:\n{error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal),
            $"expected one 'error: ' line on stderr; got:\n{error}");
        foreach (var mention in mentions) Assert.Contains(mention, lines[0]);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal("", output);
        Assert.Equal(before, scratch.Files());
        return lines[0];
    }
}
