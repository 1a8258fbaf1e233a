using System.Text.Json;
using System.Text.Json.Nodes;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Rendering;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Dreaming;

/// <summary>
/// "Going deeper": frame 0 is the start dreamt, frame k the zoomed (and rotated) frame k−1 dreamt again. Frames are
/// written to a folder as <c>frame_00000.png</c>, ... (each atomically) beside a <c>zoom.json</c> with the settings.
/// Each frame is fed back as the 8-bit image written, so a run continued from the folder after a cancellation or a
/// crash makes exactly the frames an uninterrupted run would have.
/// </summary>
public static class ZoomLoop
{
    /// <summary>Name of the settings file in a frame folder.</summary>
    public const string SettingsFile = "zoom.json";

    /// <summary>Frame file name for frame <paramref name="index"/> (0-based): <c>frame_00042.png</c>.</summary>
    public static string FrameName(int index) => $"frame_{index:D5}.png";

    /// <summary>
    /// Makes the frames of <paramref name="settings"/> in <paramref name="folder"/>, continuing after the frames already
    /// there when they were made with the same settings and start (a larger <see cref="ZoomSettings.Frames"/> extends a
    /// run). Cancellation, or a dream whose gradient turns NaN, stops before the next frame is written; written frames are kept.
    /// </summary>
    /// <param name="overwrite">When the folder holds frames made differently, delete them and start over instead of refusing.</param>
    /// <param name="progress">Told after every step, with the frame number.</param>
    /// <param name="onFrame">Called after each frame is written.</param>
    /// <exception cref="FrameFolderMismatchException">The folder holds frames from other settings and <paramref name="overwrite"/> is false.</exception>
    public static ZoomResult Run(Model model, ZoomStart start, ZoomSettings settings, string folder, bool overwrite = false,
        IProgress<RenderProgress>? progress = null, Action<ZoomFrame>? onFrame = null, CancellationToken cancellation = default, string? command = null)
    {
        settings.Validate();
        foreach (var tap in settings.Dream.Objective.Taps) model.ResolveTap(tap);
        Dream.OctaveSizes(start.Height, start.Width, settings.Dream.Octaves, settings.Dream.OctaveScale);
        Directory.CreateDirectory(folder);
        var recipe = Recipe(start, settings);
        var provenance = Provenance.Of(model, settings.Dream.Seed, command);
        int existing = PrepareFolder(folder, provenance, recipe, overwrite);
        AtomicFile.WriteAllText(Path.Combine(folder, SettingsFile), Sidecar.ToJson(provenance, new JsonObject
        {
            ["recipe"] = recipe.DeepClone(),
            ["frames"] = settings.Frames,
        }));

        var stop = RenderStop.Completed;
        int written = 0, stepsPerFrame = settings.Dream.TotalSteps;
        Tensor? previous = existing > 0 ? LoadFrame(folder, existing - 1, start) : null;
        try
        {
            for (int k = existing; k < settings.Frames; k++)
            {
                if (cancellation.IsCancellationRequested) { stop = RenderStop.Cancelled; break; }
                using var scope = NewDisposeScope();
                var input = previous is null ? start.Image : ZoomInto(previous, settings.Zoom, settings.Rotate);
                var schedule = new Dream.DreamSchedule(progress, null, $"frame {k + 1}/{settings.Frames}", k * stepsPerFrame, settings.Frames * stepsPerFrame);
                using var dream = Dream.Run(model, input, settings.Dream with { Seed = settings.Dream.Seed + k }, schedule, cancellation);
                if (dream.Stop != RenderStop.Completed) { stop = dream.Stop; break; }

                using var rgb = ImageIO.ToImage(dream.Image);
                string path = Path.Combine(folder, FrameName(k));
                ImageIO.Save(rgb, path);
                written++;
                previous?.Dispose();
                previous = ImageIO.FromImage(rgb).to(start.Image.dtype).MoveToOuterDisposeScope();
                onFrame?.Invoke(new ZoomFrame(k, path, previous));
            }
        }
        finally
        {
            previous?.Dispose();
        }
        var frames = Enumerable.Range(0, existing + written).Select(k => Path.Combine(folder, FrameName(k))).ToList();
        return new ZoomResult(folder, frames, existing, written, stop);
    }

    /// <summary>
    /// Zooms into the centre by <paramref name="zoom"/> and rotates by <paramref name="degrees"/> (counter-clockwise as
    /// displayed), keeping the size: the central 1/zoom of the image, resampled bilinearly to the full size (the
    /// notebook's <c>nd.affine_transform</c>). Pixels that come from outside take the nearest border pixel.
    /// </summary>
    public static Tensor ZoomInto(Tensor image, double zoom, double degrees = 0)
    {
        var batch = Dream.SinglePhoto(image);
        long height = batch.shape[2], width = batch.shape[3];
        double radians = degrees * Math.PI / 180, c = Math.Cos(radians) / zoom, s = Math.Sin(radians) / zoom;
        using var scope = NewDisposeScope();
        // Output → input map in grid_sample's normalized coordinates; the H/W factors keep rotations rigid on non-square images.
        var theta = tensor(new[] { c, -s * height / width, 0, s * width / height, c, 0 }, [1, 2, 3], dtype: batch.dtype, device: batch.device);
        var grid = F.affine_grid(theta, [1, 3, height, width], align_corners: false);
        return F.grid_sample(batch, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <summary>How many frames (<c>frame_00000.png</c> onwards, without a gap) the folder holds.</summary>
    public static int CountFrames(string folder)
    {
        int count = 0;
        while (File.Exists(Path.Combine(folder, FrameName(count)))) count++;
        return count;
    }

    // What decides the frames' bytes; the frame count is not part of it (a larger count extends a run).
    static JsonObject Recipe(ZoomStart start, ZoomSettings settings) => new()
    {
        ["start"] = start.Description,
        ["width"] = start.Width,
        ["height"] = start.Height,
        ["zoom"] = settings.Zoom,
        ["rotate"] = settings.Rotate,
        ["dream"] = KitJson.ToNode(settings.Dream),
    };

    /// <summary>Checks the folder's earlier frames against the recipe; returns how many frames to keep.</summary>
    static int PrepareFolder(string folder, Provenance provenance, JsonObject recipe, bool overwrite)
    {
        string settingsPath = Path.Combine(folder, SettingsFile);
        var frameFiles = Directory.EnumerateFiles(folder, "frame_*.png").ToList();
        if (frameFiles.Count == 0 && !File.Exists(settingsPath)) return 0;

        string? difference = File.Exists(settingsPath)
            ? JsonDifference.Describe(ReadRecorded(settingsPath), Resumable(provenance, recipe))
            : $"it holds {frameFiles.Count} frame file(s) but no {SettingsFile}";
        if (difference is null) return CountFrames(folder);
        if (!overwrite)
            throw new FrameFolderMismatchException(
                $"{Path.GetFullPath(folder)} holds zoom frames made with other settings ({difference}); use another folder, or --force (overwrite: true) to delete them and start over");
        foreach (var file in frameFiles) File.Delete(file);
        return 0;
    }

    // The model and how it ran decide the bytes as much as the recipe does.
    static JsonObject Resumable(Provenance provenance, JsonObject recipe) => new()
    {
        ["model"] = provenance.Model,
        ["normalization"] = provenance.Normalization,
        ["kernels"] = provenance.Kernels,
        ["recipe"] = recipe.DeepClone(),
    };

    static JsonNode? ReadRecorded(string path)
    {
        try
        {
            var document = JsonNode.Parse(File.ReadAllText(path));
            var provenance = document?["provenance"];
            return new JsonObject
            {
                ["model"] = provenance?["model"]?.DeepClone(),
                ["normalization"] = provenance?["normalization"]?.DeepClone(),
                ["kernels"] = provenance?["kernels"]?.DeepClone(),
                ["recipe"] = document?["settings"]?["recipe"]?.DeepClone(),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidFileException($"{Path.GetFullPath(path)} is not a readable zoom settings file ({e.Message})", e);
        }
    }

    static Tensor LoadFrame(string folder, int index, ZoomStart start)
    {
        string path = Path.Combine(folder, FrameName(index));
        var frame = ImageIO.Load(path);
        if (frame.shape[2] != start.Height || frame.shape[3] != start.Width)
        {
            frame.Dispose();
            throw new InvalidFileException($"{Path.GetFullPath(path)} is {frame.shape[3]}x{frame.shape[2]}, but the zoom's frames are {start.Width}x{start.Height}; was it replaced?");
        }
        return frame.to(start.Image.dtype);
    }
}

/// <summary>A frame just written by the zoom loop.</summary>
/// <param name="Index">Frame number, 0-based.</param>
/// <param name="Path">The file written.</param>
/// <param name="Image">The frame as written (8-bit levels), [1,3,H,W]; read it during the callback, or keep it with <see cref="CopyImage"/>.</param>
public sealed record ZoomFrame(int Index, string Path, Tensor Image)
{
    /// <summary>A copy of <see cref="Image"/> that belongs to the caller and outlives the callback (a plain <c>clone()</c> made
    /// in the callback is freed with the frame's dispose scope); dispose it when done.</summary>
    public Tensor CopyImage() => Image.detach().clone().DetachFromDisposeScope();
}

/// <summary>What a zoom run left in its folder.</summary>
/// <param name="Folder">The frame folder.</param>
/// <param name="Frames">Every frame file in order, earlier runs' included.</param>
/// <param name="Resumed">Frames that were already there (this run continued after them).</param>
/// <param name="Written">Frames this run wrote.</param>
/// <param name="Stop">Why the run ended.</param>
public sealed record ZoomResult(string Folder, IReadOnlyList<string> Frames, int Resumed, int Written, RenderStop Stop)
{
    /// <summary>Assembles the frames into a looping GIF (see <see cref="FrameAnimation.SaveGif"/>) with a JSON sidecar
    /// holding the folder's settings, the frame count and the rate.</summary>
    /// <returns>The files written.</returns>
    public IReadOnlyList<string> SaveGif(string path, double framesPerSecond = 10, bool overwrite = false)
    {
        RefuseSidecar(path, overwrite);
        FrameAnimation.SaveGif(Frames, path, framesPerSecond, overwrite);
        return WriteSidecar(path, framesPerSecond);
    }

    /// <summary>Encodes the frames as an MP4 with ffmpeg (see <see cref="FrameAnimation.SaveMp4"/>), with a JSON sidecar like <see cref="SaveGif"/>'s.</summary>
    /// <returns>The files written.</returns>
    public IReadOnlyList<string> SaveMp4(string path, double framesPerSecond = 10, bool overwrite = false)
    {
        RefuseSidecar(path, overwrite);
        FrameAnimation.SaveMp4(Folder, path, framesPerSecond, overwrite);
        return WriteSidecar(path, framesPerSecond);
    }

    string FolderSettings => Path.GetFullPath(Path.Combine(Folder, ZoomLoop.SettingsFile));

    // An animation saved as zoom.gif inside its own folder shares the folder's settings file, which describes it already.
    string? SidecarOf(string path) => Path.GetFullPath(Sidecar.PathFor(path)) is var sidecar && sidecar != FolderSettings ? sidecar : null;

    void RefuseSidecar(string path, bool overwrite) => Outputs.EnsureWritable(overwrite, SidecarOf(path));

    IReadOnlyList<string> WriteSidecar(string path, double framesPerSecond)
    {
        if (SidecarOf(path) is not { } sidecar) return [path];
        var folder = JsonNode.Parse(File.ReadAllText(FolderSettings));
        var provenance = folder?["provenance"].Deserialize<Provenance>(KitJson.Options)
            ?? throw new InvalidFileException($"{FolderSettings} has no provenance");
        Sidecar.Write(path, provenance, new JsonObject
        {
            ["frames"] = Frames.Count,
            ["framesPerSecond"] = framesPerSecond,
            ["folder"] = Path.GetFullPath(Folder),
            ["zoom"] = folder?["settings"]?.DeepClone(),
        });
        return [path, sidecar];
    }
}

/// <summary>A zoom folder holds frames made with other settings; the message says which differ.</summary>
public sealed class FrameFolderMismatchException(string message) : InvalidFileException(message);
