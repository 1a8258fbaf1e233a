using System.CommandLine;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Objectives;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit dream photo.jpg --layer layer3 --out dream.png</c>: DeepDream on a photo.</summary>
static class DreamCommand
{
    public static Command Create()
    {
        var photo = new Argument<string>("photo") { Description = "Photo to dream on (PNG, JPEG, WebP)" };
        var layer = new Option<string>("--layer") { Description = "Layer whose activations to amplify (tap name or alias)", DefaultValueFactory = _ => "layer3" };
        var objective = new Option<string?>("--objective") { Description = "Objective shorthand instead of the whole layer, e.g. layer3:7 for one channel" };
        var guide = new Option<string?>("--guide") { Description = "Guide image: amplify the features of --layer that best match the guide's (guided dream)", HelpName = "PATH" };
        var output = new Option<string>("--out") { Description = "Output image; the settings go to a .json beside it", Required = true };
        var options = new DreamOptions();
        var command = new Command("dream", "DeepDream: amplify what a layer sees in a photo, over several octaves") { photo, layer, objective, guide, output };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            bool force = parse.GetValue(CommonOptions.Force);
            DreamOptions.RefuseExisting(force, path, RenderResult.SidecarPath(path));
            using var model = CommonOptions.LoadModelOnDevice(parse);
            Objective goal;
            if (parse.GetValue(guide) is { } guidePath)
            {
                using var guideImage = options.LoadPhoto(parse, guidePath);
                goal = Dream.Guide(model, parse.GetValue(layer)!, guideImage, Path.GetFileName(guidePath));
            }
            else goal = parse.GetValue(objective) is { } text ? Objective.Parse(text) : Objective.Layer(parse.GetValue(layer)!);
            var settings = options.Settings(parse, goal);
            string source = parse.GetValue(photo)!;
            using var image = options.LoadPhoto(parse, source);

            var bar = new ProgressBar("dreaming", settings.TotalSteps);
            using var dream = Dream.Run(model, image, settings, new BarProgress(bar), cancellation: CliRunner.Cancellation.Token);
            var files = dream.Save(path, force, source, Environment.CommandLine);
            Console.WriteLine($"{goal}: {dream.ObjectiveBefore:0.###} -> {dream.ObjectiveAfter:0.###} after {dream.StepsDone} steps" +
                $"{(dream.Stop == DreamStop.Cancelled ? " (cancelled)" : "")}; wrote {string.Join(", ", files)}");
            if (dream.Stop == DreamStop.NonFinite)
                Console.Error.WriteLine($"stopped: the gradient became NaN or infinite after {dream.StepsDone} steps; kept the last finite image");
            return dream.Stop switch { DreamStop.Cancelled => 130, DreamStop.NonFinite => 3, _ => 0 };
        });
        return command;
    }
}

/// <summary>The dream settings every dreaming command takes, with the library's (the paper's) defaults.</summary>
sealed class DreamOptions
{
    static readonly DreamSettings Defaults = new("layer3");

    readonly Option<int> _octaves = new("--octaves") { Description = "Scales to dream at, smallest first", DefaultValueFactory = _ => Defaults.Octaves };
    readonly Option<double> _octaveScale = new("--octave-scale") { Description = "Size ratio between octaves", DefaultValueFactory = _ => Defaults.OctaveScale };
    readonly Option<int> _steps = new("--steps") { Description = "Ascent steps per octave", DefaultValueFactory = _ => Defaults.StepsPerOctave };
    readonly Option<double> _stepSize = new("--step-size")
    {
        Description = "Mean change of a pixel per step, in [0,1] units (default 1.5/255, the paper's 1.5 on 0-255 pixels)",
        DefaultValueFactory = _ => Defaults.StepSize,
    };
    readonly Option<int> _jitter = new("--jitter") { Description = "Largest random shift per step, in pixels", DefaultValueFactory = _ => Defaults.Jitter };
    readonly Option<int?> _tile = new("--tile") { Description = "Compute gradients in tiles of at most this many pixels (for large images; e.g. 512)" };
    readonly Option<int> _seed = new("--seed") { Description = "Random seed (same seed, same bytes)", DefaultValueFactory = _ => Defaults.Seed };
    readonly Option<int?> _size = new("--size") { Description = "Resize the photo so that its longer side has this many pixels" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _octaves, _octaveScale, _steps, _stepSize, _jitter, _tile, _seed, _size, CommonOptions.Device })
            command.Options.Add(option);
    }

    public DreamSettings Settings(ParseResult parse, Objective objective) => new DreamSettings(objective)
    {
        Octaves = parse.GetValue(_octaves),
        OctaveScale = parse.GetValue(_octaveScale),
        StepsPerOctave = parse.GetValue(_steps),
        StepSize = parse.GetValue(_stepSize),
        Jitter = parse.GetValue(_jitter),
        Tile = parse.GetValue(_tile),
        Seed = parse.GetValue(_seed),
    }.Validate();

    /// <summary>The --size given, if any.</summary>
    public int? Size(ParseResult parse) => parse.GetValue(_size);

    /// <summary>The photo, resized to --size on its longer side when given.</summary>
    public TorchSharp.torch.Tensor LoadPhoto(ParseResult parse, string path)
    {
        var image = ImageIO.Load(path);
        if (parse.GetValue(_size) is not { } size) return image;
        using (image)
        {
            double scale = (double)size / Math.Max(image.shape[2], image.shape[3]);
            return ImageOps.Resize(image, (int)Math.Round(image.shape[2] * scale), (int)Math.Round(image.shape[3] * scale));
        }
    }

    /// <summary>Refuses before any work is done when an output exists and --force was not given.</summary>
    public static void RefuseExisting(bool force, params string[] paths)
    {
        if (force) return;
        foreach (var path in paths)
            if (File.Exists(path)) throw new OutputExistsException(Path.GetFullPath(path));
    }
}

/// <summary>Shows a dream's progress (frame, octave, step) on a <see cref="ProgressBar"/>.</summary>
sealed class BarProgress(ProgressBar bar) : IProgress<DreamProgress>
{
    public void Report(DreamProgress p)
    {
        string frame = p.Label is { } label ? $"{label} " : p.Frames > 1 ? $"frame {p.Frame}/{p.Frames} " : "";
        bar.Report(p.StepsDone, $"{frame}octave {p.Octave}/{p.Octaves} step {p.Step}/{p.StepsPerOctave}");
    }
}
