using System.CommandLine;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Objectives;

namespace ResearchKit.Cli.Options;

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
        foreach (var option in new Option[] { _octaves, _octaveScale, _steps, _stepSize, _jitter, _tile, _seed, _size, ModelOptions.Device })
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

}
