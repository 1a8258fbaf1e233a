using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Dreaming;
using ResearchKit.IO;
using ResearchKit.Objectives;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit zoom [photo.jpg | --noise] --frames 100 --zoom 1.05 --out frames/ [--gif out.gif]</c>: the "going deeper" zoom loop.</summary>
static class ZoomCommand
{
    public static Command Create()
    {
        var photo = new Argument<string?>("photo") { Description = "Photo to start from (or give --noise)", Arity = ArgumentArity.ZeroOrOne };
        var noise = new Option<bool>("--noise") { Description = "Start from seeded grey noise instead of a photo (its size is --size, default 512)" };
        var layer = new Option<string>("--layer") { Description = "Layer whose activations to amplify (tap name or alias)", DefaultValueFactory = _ => "layer3" };
        var frames = new Option<int>("--frames") { Description = "Frames to make (a rerun with more frames extends the run)", DefaultValueFactory = _ => 100 };
        var zoom = new Option<double>("--zoom") { Description = "Magnification per frame about the centre", DefaultValueFactory = _ => 1.05 };
        var rotate = new Option<double>("--rotate") { Description = "Rotation per frame in degrees (counter-clockwise)", DefaultValueFactory = _ => 0 };
        var output = OutputOptions.Out("Folder for frame_00000.png ... and zoom.json; a rerun with the same settings continues it");
        var gif = new Option<string?>("--gif") { Description = "Also assemble the frames into this animated GIF", HelpName = "PATH" };
        var mp4 = new Option<string?>("--mp4") { Description = "Also encode the frames as this MP4 (needs ffmpeg on PATH)", HelpName = "PATH" };
        var fps = new Option<double>("--fps") { Description = "Frames per second of the GIF and MP4", DefaultValueFactory = _ => 10 };
        var options = new DreamOptions();
        var command = new Command("zoom", "Dream, zoom into the centre, dream again: numbered frames, resumable, optionally a GIF or MP4")
            { photo, noise, layer, ObjectiveOptions.Shorthand, frames, zoom, rotate, output, gif, mp4, fps };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            string? photoPath = parse.GetValue(photo);
            if ((photoPath is null) == !parse.GetValue(noise))
                throw new InvalidSettingException("give either a photo or --noise to start the zoom from");
            bool force = OutputOptions.Overwrite(parse);
            string? gifPath = parse.GetValue(gif), mp4Path = parse.GetValue(mp4);
            OutputOptions.EnsureWritable(parse, new[] { gifPath, mp4Path }.OfType<string>().SelectMany(p => new[] { p, Sidecar.PathFor(p) }));
            if (mp4Path is not null && FrameAnimation.FindFfmpeg() is null)
                throw new InvalidSettingException("--mp4 needs ffmpeg on PATH, and there is none; leave out --mp4 or install ffmpeg (--gif needs nothing)");

            using var model = ModelOptions.LoadOnDevice(parse);
            Objective goal = parse.GetValue(ObjectiveOptions.Shorthand) is { } text ? Objective.Parse(text) : Objective.Layer(parse.GetValue(layer)!);
            var dream = options.Settings(parse, goal);
            var settings = new ZoomSettings(dream) { Frames = parse.GetValue(frames), Zoom = parse.GetValue(zoom), Rotate = parse.GetValue(rotate) }.Validate();
            ZoomStart start;
            if (photoPath is not null) start = ZoomStart.Photo(options.LoadPhoto(parse, photoPath), Path.GetFileName(photoPath));
            else
            {
                int size = options.Size(parse) ?? 512;
                start = ZoomStart.Noise(size, size, dream.Seed);
            }

            string folder = parse.GetValue(output)!;
            var bar = new ProgressBar("zooming", settings.Frames * dream.TotalSteps);
            var result = ZoomLoop.Run(model, start, settings, folder, force, bar, cancellation: CliRunner.Cancellation.Token,
                command: Environment.CommandLine);
            start.Image.Dispose();
            string resumed = result.Resumed > 0 ? $" after {result.Resumed} from an earlier run" : "";
            Console.WriteLine($"{result.Written} frame(s) written to {folder}{resumed}; {result.Frames.Count} in all");
            if (result.Stop == RenderStop.Cancelled)
            {
                Console.Error.WriteLine("cancelled; the frames written so far are kept, and rerunning the same command continues");
                return 130;
            }
            if (result.Stop == RenderStop.NonFinite)
            {
                Console.Error.WriteLine($"stopped: the gradient became NaN or infinite while dreaming {ZoomLoop.FrameName(result.Frames.Count)}; the frames written so far are kept");
                return 3;
            }
            if (result.Stop == RenderStop.Dead)
            {
                Console.Error.WriteLine($"stopped: dead start while dreaming {ZoomLoop.FrameName(result.Frames.Count)}: the objective stayed exactly 0, " +
                    "so the units it reads are silent for this image; dream a layer or a channel that fires. The frames written so far are kept");
                return 4;
            }
            if (gifPath is not null)
            {
                var files = result.SaveGif(gifPath, parse.GetValue(fps), force);
                Console.WriteLine($"wrote {string.Join(", ", files)} ({result.Frames.Count} frames)");
            }
            if (mp4Path is not null)
            {
                var files = result.SaveMp4(mp4Path, parse.GetValue(fps), force);
                Console.WriteLine($"wrote {string.Join(", ", files)}");
            }
            return 0;
        });
        return command;
    }
}
