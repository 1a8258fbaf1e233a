using System.CommandLine;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Native;
using ResearchKit.Rendering;

namespace ResearchKit.Cli;

/// <summary>Runs the command line; every expected failure becomes one clear line on stderr and a non-zero exit code.</summary>
static class CliRunner
{
    /// <summary>Cancelled by Ctrl+C: long commands stop at the next step and keep what they finished.</summary>
    public static CancellationTokenSource Cancellation { get; } = new();

    public static int Run(RootCommand root, string[] args)
    {
        Console.CancelKeyPress += (_, e) =>
        {
            if (Cancellation.IsCancellationRequested) return;   // a second Ctrl+C ends the process
            e.Cancel = true;
            Console.Error.WriteLine("\ncancelling: finishing the current step and keeping what is done (Ctrl+C again to abort)");
            Cancellation.Cancel();
        };
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled; finished outputs were kept");
            return 130;
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"error: {OneLine(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("RESEARCHKIT_DEBUG") == "1") Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(set RESEARCHKIT_DEBUG=1 for the stack trace)");
            return 2;
        }
    }

    /// <summary>
    /// The exit code of a finished render or dream, saying why it stopped on stderr: 0 completed, 130 cancelled (the
    /// finished image was kept), 3 when the objective or gradient became NaN or infinite, 4 for a dead start (the
    /// objective never left 0).
    /// </summary>
    public static int ExitCode(RenderStop stop, int stepsDone)
    {
        if (stop.Explain(stepsDone) is { } why && stop != RenderStop.Cancelled) Console.Error.WriteLine($"stopped: {why}");
        return stop switch { RenderStop.NonFinite => 3, RenderStop.Dead => 4, RenderStop.Cancelled => 130, _ => 0 };
    }

    // libtorch appends its C++ stack trace to exception messages ("Exception raised from ..."); what precedes it says
    // what went wrong. .NET's own multi-line messages (ArgumentOutOfRangeException's "Actual value was ...") are joined.
    static string OneLine(string message)
    {
        int trace = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        return (trace >= 0 ? message[..trace] : message).ReplaceLineEndings(" ").Trim();
    }

    static bool IsUserError(Exception e) => e is UserErrorException;
}
