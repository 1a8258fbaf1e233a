using System.Diagnostics;

namespace ResearchKit.Tests.Cli;

/// <summary>Runs the real <c>researchkit</c> command line (ResearchKit.Cli.dll beside the tests) in its own process.</summary>
static class CliProcess
{
    public static (int ExitCode, string Output, string Error) Run(string workingDirectory, params string[] args)
    {
        using var process = Start(workingDirectory, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"researchkit {string.Join(" ", args)} did not finish in 10 minutes");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>
    /// Starts the command line with redirected output and returns the running process. With
    /// <paramref name="defaultInterrupt"/> it starts with SIGINT's default disposition even when the test run
    /// inherited it ignored (a shell's background job does that), so that Ctrl+C can be tested from anywhere.
    /// </summary>
    public static Process Start(string workingDirectory, string[] args, bool defaultInterrupt = false)
    {
        var start = new ProcessStartInfo(defaultInterrupt ? "env" : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (defaultInterrupt) foreach (var a in new[] { "--default-signal=INT", "dotnet" }) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ResearchKit.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }
}
