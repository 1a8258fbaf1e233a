using System.CommandLine;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Options;

/// <summary>How a render runs: prior preset, steps, image size (square or width × height), seed.</summary>
static class RenderOptions
{
    public static readonly Option<string> Prior = new("--prior")
    {
        Description = $"Prior preset: {string.Join(", ", PriorPresets.All.Select(p => p.Name.ToLowerInvariant()))}",
        DefaultValueFactory = _ => "lucid",
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
            "steps (default: the prior preset's; lucid, bilateral and pixelascent use 16, as Lucid does)",
    };

    /// <summary>All of them.</summary>
    public static IEnumerable<Option> All => [Prior, Steps, Size, Width, Height, Seed, FixedSize, RedirectRelu];

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
        var plan = Render.Plan(model, objective).WithPreset(parse.GetValue(Prior)!).Size(height, width).Seed(parse.GetValue(Seed))
            .FixedSize(parse.GetValue(FixedSize) ? true : null).FromCommand(Environment.CommandLine);
        if (parse.GetValue(RedirectRelu) is { } redirect) plan = plan.RedirectRelu(ReluRedirect.Parse(redirect));
        return parse.GetValue(Steps) is { } steps ? plan.Steps(steps) : plan;
    }
}
