using System.CommandLine;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Options;

/// <summary>How a render runs: prior preset, steps, image size (square or width × height), seed; and a photo fitted to that size.</summary>
static class RenderOptions
{
    public static readonly Option<string> Prior = PriorOption(PriorPresets.Lucid);

    /// <summary>A <c>--prior</c> option whose default is <paramref name="preset"/>, for a command whose recipe has its own.</summary>
    public static Option<string> PriorOption(PriorPreset preset) => new("--prior")
    {
        Description = $"Prior preset: {string.Join(", ", PriorPresets.All.Select(p => p.Name.ToLowerInvariant()))}",
        DefaultValueFactory = _ => preset.Name.ToLowerInvariant(),
    };
    public static readonly Option<int?> Steps = new("--steps") { Description = "Optimizer steps (default: the prior preset's)" };
    public static readonly Option<int?> Size = new("--size") { Description = "Image size in pixels, square (default: the model's input size)" };
    public static readonly Option<int?> Width = new("--width") { Description = "Image width in pixels (overrides --size for the width)" };
    public static readonly Option<int?> Height = new("--height") { Description = "Image height in pixels (overrides --size for the height)" };
    public static readonly Option<int> Seed = new("--seed") { Description = "Random seed (same seed, same bytes)", DefaultValueFactory = _ => 0 };
    public static readonly Option<bool> FixedSize = new("--fixed-size")
    {
        Description = "Resize the transformed image to the model's input size before it goes in, for networks that take one size " +
            "(vision transformers get this automatically)",
    };

    public static readonly Option<string?> RedirectRelu = new("--redirect-relu")
    {
        Description = "Redirected ReLU gradient, so units silent at the start still get one: off, throughout, or a number of first " +
            "steps (default: the prior preset's; lucid, maco, bilateral and pixelascent use 16, as Lucid does)",
    };

    /// <summary>All of them.</summary>
    public static IEnumerable<Option> All => [Prior, .. AllButPrior];

    /// <summary>All but <c>--prior</c>, for commands that add their own (<see cref="PriorOption"/>).</summary>
    public static IEnumerable<Option> AllButPrior => [Steps, Size, Width, Height, Seed, FixedSize, RedirectRelu];

    /// <summary>The size asked for: --width/--height, else --size, else the model's input size.</summary>
    public static (int Height, int Width) ImageSize(ParseResult parse, Model model)
    {
        int? square = parse.GetValue(Size);
        return (parse.GetValue(Height) ?? square ?? model.InputHeight, parse.GetValue(Width) ?? square ?? model.InputWidth);
    }

    /// <summary>A plan for <paramref name="objective"/> with the preset, size, steps and seed asked for, recording the command line.</summary>
    public static RenderPlan Plan(ParseResult parse, Model model, Objective objective)
    {
        var (height, width) = ImageSize(parse, model);
        return Adjust(parse, Render.Plan(model, objective).Size(height, width), Prior);
    }

    /// <summary>
    /// <paramref name="plan"/> with the preset of <paramref name="prior"/>, the steps and seed asked for and the fixed
    /// size if asked, recording the command line; its size stays.
    /// </summary>
    public static RenderPlan Adjust(ParseResult parse, RenderPlan plan, Option<string> prior)
    {
        plan = plan.WithPreset(parse.GetValue(prior)!).Seed(parse.GetValue(Seed))
            .FixedSize(parse.GetValue(FixedSize) ? true : null).FromCommand(Environment.CommandLine);
        if (parse.GetValue(RedirectRelu) is { } redirect) plan = plan.RedirectRelu(ReluRedirect.Parse(redirect));
        return parse.GetValue(Steps) is { } steps ? plan.Steps(steps) : plan;
    }

    /// <summary>Runs <paramref name="plan"/> with a progress bar, saves the image and its sidecar, prints one line and returns the exit code.</summary>
    public static int RunAndSave(ParseResult parse, RenderPlan plan, string path, string verb)
    {
        using var result = plan.ReportTo(new ProgressBar(verb, plan.StepCount)).Run(CliRunner.Cancellation.Token);
        var files = result.Save(path, OutputOptions.Overwrite(parse));
        Console.WriteLine($"{plan.Objective}: {result.FinalObjective:0.###} after {result.StepsDone} steps ({result.Stop}); wrote {string.Join(", ", files)}");
        if (result.Stop != RenderStop.Dead && result.DeadItems.Count > 0)
            Console.Error.WriteLine($"note: batch item{(result.DeadItems.Count > 1 ? "s" : "")} {string.Join(", ", result.DeadItems)} of {plan.BatchSize} " +
                $"(see the sidecar's deadItems) {RenderStop.Dead.Explain(Math.Min(result.StepsDone, Renderer.DeadAfterSteps))}");
        return CliRunner.ExitCode(result.Stop, result.StepsDone);
    }

    /// <summary>
    /// The photo at <paramref name="path"/> at the size asked for (<see cref="ImageSize"/>): resized to cover it,
    /// keeping its aspect ratio, and cropped to it around the centre (Lucid's recipes fit a photo to the model so).
    /// </summary>
    public static TorchSharp.torch.Tensor LoadPhoto(ParseResult parse, Model model, string path)
    {
        var (height, width) = ImageSize(parse, model);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var photo = ImageIO.Load(path);
        double scale = Math.Max((double)height / photo.shape[2], (double)width / photo.shape[3]);
        var covering = ImageOps.Resize(photo, Math.Max(height, (int)Math.Round(photo.shape[2] * scale)), Math.Max(width, (int)Math.Round(photo.shape[3] * scale)));
        return ImageOps.CenterCrop(covering, height, width).contiguous().MoveToOuterDisposeScope();
    }
}
