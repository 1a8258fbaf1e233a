using System.Diagnostics;

namespace ResearchKit.Tests.Cli;

/// <summary>Runs the real <c>researchkit</c> command line (ResearchKit.Cli.dll beside the tests) in its own process.</summary>
static class CliProcess
{
    public static (int ExitCode, string Output, string Error) Run(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ResearchKit.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"researchkit {string.Join(" ", args)} did not finish in 10 minutes");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
