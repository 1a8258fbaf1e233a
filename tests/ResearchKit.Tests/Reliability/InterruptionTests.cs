using System.Diagnostics;
using System.Runtime.InteropServices;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Models.Onnx;
using ResearchKit.Rendering;
using ResearchKit.Tests.Cli;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Reliability;

/// <summary>Long runs survive interruption: cancellation stops at the next step and keeps the last good image and
/// every frame written; Ctrl+C on the command line does the same, and a rerun of <c>zoom</c> continues.</summary>
public sealed class InterruptionTests : IDisposable
{
    readonly Scratch _scratch = new();
    readonly OnnxModel _model;

    public InterruptionTests() => _model = OnnxModel.Load(TinyNet.Save(_scratch.File("tiny.onnx")));

    public void Dispose()
    {
        _model.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public void A_cancelled_render_stops_at_the_next_step_and_keeps_the_last_completed_image()
    {
        using var cts = new CancellationTokenSource();
        Tensor? fifth = null;
        using var result = Render.Plan(_model, "layer2:3").Size(32).Steps(50).Every(1, f =>
        {
            if (f.Step != 5) return;
            fifth = f.Image.clone().DetachFromDisposeScope();
            cts.Cancel();
        }).Run(cts.Token);
        Assert.Equal((RenderStop.Cancelled, 5), (result.Stop, result.StepsDone));
        Assert.True(result.Images.eq(fifth!).all().item<bool>(), "the image after step 5 is kept");
        fifth!.Dispose();
    }

    [Fact]
    public void A_cancelled_dream_stops_at_the_next_step_with_the_image_of_a_dream_that_short()
    {
        using var photo = rand([1, 3, 48, 48], generator: new Generator(3));
        using var cts = new CancellationTokenSource();
        var settings = new DreamSettings("layer2") { Octaves = 1, StepsPerOctave = 20, Seed = 2 };
        using var cancelled = Dream.Run(_model, photo, settings, new SynchronousProgress<RenderProgress>(p => { if (p.Step == 3) cts.Cancel(); }), cancellation: cts.Token);
        using var short_ = Dream.Run(_model, photo, settings with { StepsPerOctave = 3 });
        Assert.Equal((RenderStop.Cancelled, 3), (cancelled.Stop, cancelled.StepsDone));
        Assert.True(cancelled.Image.eq(short_.Image).all().item<bool>());
    }

    [Fact]
    public void A_cancelled_zoom_keeps_its_written_frames_and_a_rerun_ends_as_an_uninterrupted_run()
    {
        var settings = new ZoomSettings(new DreamSettings("layer2") { Octaves = 1, StepsPerOctave = 2 }) { Frames = 4, Zoom = 1.1 };
        using var cts = new CancellationTokenSource();
        string folder = _scratch.File("resumed");
        var first = ZoomLoop.Run(_model, ZoomStart.Noise(32, 32, 1), settings, folder,
            onFrame: f => { if (f.Index == 1) cts.Cancel(); }, cancellation: cts.Token);
        Assert.Equal((RenderStop.Cancelled, 2), (first.Stop, first.Written));
        Assert.All(first.Frames, f => Assert.Equal([1, 3, 32, 32], ImageIO.Load(f).shape));
        Assert.DoesNotContain(_scratch.Files(), f => f.EndsWith(".tmp", StringComparison.Ordinal));

        var rerun = ZoomLoop.Run(_model, ZoomStart.Noise(32, 32, 1), settings, folder);
        var straight = ZoomLoop.Run(_model, ZoomStart.Noise(32, 32, 1), settings, _scratch.File("straight"));
        Assert.Equal((RenderStop.Completed, 2, 2), (rerun.Stop, rerun.Resumed, rerun.Written));
        Assert.Equal(straight.Frames.Select(File.ReadAllBytes), rerun.Frames.Select(File.ReadAllBytes));
    }

    [Fact]
    public async Task Ctrl_c_stops_the_zoom_command_with_130_keeps_valid_frames_and_a_rerun_continues()
    {
        string[] zoom = ["zoom", "--noise", "--size", "48", "--model", "tiny.onnx", "--layer", "layer2", "--octaves", "2", "--steps", "10", "--out", "frames"];
        var (exitCode, error) = await CtrlCOnceWritten(_scratch.File("frames/frame_00001.png"), [.. zoom, "--frames", "100000"]);
        Assert.True(exitCode == 130, $"exit {exitCode}: {error}");
        Assert.Contains("cancelled; the frames written so far are kept", error);
        Assert.DoesNotContain("   at ", error);

        int written = ZoomLoop.CountFrames(_scratch.File("frames"));
        Assert.True(written >= 2);
        Assert.Equal(written + 1, _scratch.Files().Count(f => f.StartsWith("frames", StringComparison.Ordinal)));   // frames and zoom.json, no temporaries
        var frames = Enumerable.Range(0, written).Select(k => _scratch.File($"frames/{ZoomLoop.FrameName(k)}")).ToList();
        Assert.All(frames, f => Assert.Equal([1, 3, 48, 48], ImageIO.Load(f).shape));
        var bytes = frames.Select(File.ReadAllBytes).ToList();

        var (code, rerunOutput, rerunError) = CliProcess.Run(_scratch.Path, [.. zoom, "--frames", $"{written + 1}"]);
        Assert.True(code == 0, rerunError);
        Assert.Contains($"1 frame(s) written to frames after {written} from an earlier run; {written + 1} in all", rerunOutput);
        Assert.Equal(bytes, frames.Select(File.ReadAllBytes));
    }

    [Fact]
    public async Task Ctrl_c_stops_the_gallery_with_130_and_a_rerun_keeps_the_finished_sections()
    {
        string[] gallery = ["gallery", "--quick", "--model", "tiny.onnx", "--out", "gallery"];
        string first = _scratch.File("gallery/sections/activations.html");
        var (exitCode, error) = await CtrlCOnceWritten(_scratch.File("gallery/sections/activations.json"), gallery);
        // The signal may land after the last section on a fast machine; then the run simply finished.
        Assert.True(exitCode is 130 or 0, $"exit {exitCode}: {error}");
        Assert.DoesNotContain("   at ", error);
        var written = File.GetLastWriteTimeUtc(first);
        var bytes = File.ReadAllBytes(first);

        var (code, _, rerunError) = CliProcess.Run(_scratch.Path, gallery);
        Assert.True(code == 0, rerunError);
        Assert.Contains("section 'activations' is up to date", rerunError);
        Assert.Equal(bytes, File.ReadAllBytes(first));
        Assert.Equal(written, File.GetLastWriteTimeUtc(first));
        Assert.True(File.Exists(_scratch.File("gallery/index.html")));
        Assert.DoesNotContain(Directory.GetFiles(_scratch.File("gallery"), "*.tmp", SearchOption.AllDirectories), _ => true);
    }

    /// <summary>Runs the command line, sends Ctrl+C (SIGINT) once <paramref name="file"/> exists, and waits for the exit.</summary>
    async Task<(int ExitCode, string Error)> CtrlCOnceWritten(string file, string[] args)
    {
        using var process = CliProcess.Start(_scratch.Path, args, defaultInterrupt: true);
        var errorText = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(file))
            {
                if (process.HasExited) Assert.Fail($"{args[0]} ended before writing {file}: {await errorText}");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"no {file} after 2 minutes");
                await Task.Delay(20);
            }
            Assert.Equal(0, Kill(process.Id, SigInt));
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await errorText);
    }

    const int SigInt = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);
}
