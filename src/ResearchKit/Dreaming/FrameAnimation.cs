using System.Diagnostics;
using ResearchKit.Imaging;
using ResearchKit.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;

namespace ResearchKit.Dreaming;

/// <summary>Assembles numbered frames (e.g. a zoom run's) into an animated GIF, or an MP4 where ffmpeg is installed.</summary>
public static class FrameAnimation
{
    /// <summary>
    /// Writes the frames, in order, as a looping animated GIF with <paramref name="framesPerSecond"/> (GIF delays are
    /// whole hundredths of a second), atomically. Each frame gets its own 256-colour palette.
    /// </summary>
    /// <exception cref="OutputExistsException"><paramref name="path"/> exists and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="InvalidSettingException">No frames, frames of different sizes, or a rate outside 1–100 per second.</exception>
    public static void SaveGif(IReadOnlyList<string> frames, string path, double framesPerSecond = 10, bool overwrite = false)
    {
        if (frames.Count == 0) throw new InvalidSettingException("there are no frames to put in a GIF", nameof(frames));
        if (!(framesPerSecond is >= 1 and <= 100))
            throw new InvalidSettingException("a GIF plays 1 to 100 frames per second", nameof(framesPerSecond), framesPerSecond);
        if (!overwrite && File.Exists(path)) throw new OutputExistsException(Path.GetFullPath(path));
        int delay = (int)Math.Round(100 / framesPerSecond);

        using var gif = ImageIO.LoadImage(frames[0]);
        gif.Metadata.GetGifMetadata().RepeatCount = 0;   // loop forever
        gif.Frames.RootFrame.Metadata.GetGifMetadata().FrameDelay = delay;
        foreach (var file in frames.Skip(1))
        {
            using var frame = ImageIO.LoadImage(file);
            if (frame.Width != gif.Width || frame.Height != gif.Height)
                throw new InvalidSettingException($"{file} is {frame.Width}x{frame.Height}, but the first frame {frames[0]} is {gif.Width}x{gif.Height}; a GIF's frames share one size");
            gif.Frames.AddFrame(frame.Frames.RootFrame).Metadata.GetGifMetadata().FrameDelay = delay;
        }
        var encoder = new GifEncoder { ColorTableMode = GifColorTableMode.Local };
        AtomicFile.Write(path, stream => gif.Save(stream, encoder), overwrite);
    }

    /// <summary>The ffmpeg executable on PATH, or null when there is none.</summary>
    public static string? FindFfmpeg()
    {
        string name = OperatingSystem.IsWindows() ? "ffmpeg.exe" : "ffmpeg";
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Encodes the zoom frames in <paramref name="folder"/> (<c>frame_00000.png</c> onwards) as an H.264 MP4 with ffmpeg,
    /// written to a temporary file and renamed into place.
    /// </summary>
    /// <exception cref="FileNotFoundException">ffmpeg is not on PATH.</exception>
    /// <exception cref="IOException">ffmpeg failed; the message ends with its last output lines.</exception>
    public static void SaveMp4(string folder, string path, double framesPerSecond = 10, bool overwrite = false)
    {
        string ffmpeg = FindFfmpeg() ?? throw new InvalidSettingException("ffmpeg is not on PATH; install it to write MP4 (the GIF needs nothing)");
        int frames = ZoomLoop.CountFrames(folder);
        if (frames == 0) throw new InvalidSettingException($"{Path.GetFullPath(folder)} holds no {ZoomLoop.FrameName(0)} ... frames", nameof(folder));
        string full = Path.GetFullPath(path);
        if (!overwrite && File.Exists(full)) throw new OutputExistsException(full);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileNameWithoutExtension(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp.mp4");
        var start = new ProcessStartInfo(ffmpeg) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-nostdin", "-loglevel", "error", "-y", "-framerate", framesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-start_number", "0", "-i", Path.Combine(Path.GetFullPath(folder), "frame_%05d.png"), "-frames:v", frames.ToString(),
                     "-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", temp })
            start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            output.Wait();
            if (process.ExitCode != 0)
                throw new IOException($"ffmpeg failed (exit {process.ExitCode}) writing {full}: {string.Join(" / ", errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(3))}");
            File.Move(temp, full, overwrite);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
