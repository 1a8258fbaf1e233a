using System.CommandLine;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit visualize --layer L --channel C</c>: activation maximization with a natural-image prior.</summary>
static class VisualizeCommand
{
    public static readonly Option<string?> Layer = new("--layer") { Description = "Tap name or alias, e.g. layer3" };
    public static readonly Option<int?> Channel = new("--channel") { Description = "Channel to maximize (omit for the whole layer, DeepDream-style)" };
    public static readonly Option<string?> ClassOption = new("--class") { Description = "Class index or label (classifiers; needs a logits output)" };
    public static readonly Option<string?> Like = new("--like") { Description = "Image whose pooled features to move towards (\"what makes this look like that photo\"; a class stand-in for models without a classifier)", HelpName = "IMAGE" };
    public static readonly Option<string?> ObjectiveText = new("--objective") { Description = "Objective shorthand instead of --layer/--channel, e.g. layer3:7" };
    public static readonly Option<int?> Steps = new("--steps") { Description = "Optimizer steps (default: the prior preset's)" };
    public static readonly Option<int> Size = new("--size") { Description = "Image size in pixels (square)", DefaultValueFactory = _ => 224 };
    public static readonly Option<int> Seed = new("--seed") { Description = "Random seed (same seed, same bytes)", DefaultValueFactory = _ => 0 };

    public static Command Create()
    {
        var prior = new Option<string>("--prior") { Description = $"Prior preset: {string.Join(", ", PriorPresets.All.Select(p => p.Name.ToLowerInvariant()))}", DefaultValueFactory = _ => "lucid" };
        var batch = new Option<int>("--batch") { Description = "Render this many images at once", DefaultValueFactory = _ => 1 };
        var diversity = new Option<double>("--diversity") { Description = "Weight of the diversity term across the batch", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output image (PNG); settings go to a .json beside it", Required = true };
        var command = new Command("visualize", "Render an image that maximizes a channel, a layer or a class, under a natural-image prior")
            { Layer, Channel, ClassOption, Like, ObjectiveText, prior, Steps, Size, batch, diversity, Seed, CommonOptions.Device, output };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            bool force = parse.GetValue(CommonOptions.Force);
            DreamOptions.RefuseExisting(force, path, RenderResult.SidecarPath(path));
            using var model = CommonOptions.LoadModelOnDevice(parse);
            var objective = ParseObjective(parse, model);
            double weight = parse.GetValue(diversity);
            if (weight != 0)
            {
                var layer = parse.GetValue(Layer) ?? objective.Taps.First();
                objective -= weight * Objective.Diversity(layer);
            }
            var plan = Render.Plan(model, objective).WithPreset(parse.GetValue(prior)!)
                .Size(parse.GetValue(Size)).Batch(parse.GetValue(batch)).Seed(parse.GetValue(Seed))
                .FromCommand(Environment.CommandLine);
            if (parse.GetValue(Steps) is { } steps) plan = plan.Steps(steps);
            var bar = new ProgressBar("rendering", plan.StepCount);
            plan = plan.Every(1, f => bar.Report(f.Step, $"objective {f.Objective:0.###}"));
            using var result = plan.Run(CliRunner.Cancellation.Token);
            var files = result.Save(path, force);
            Console.WriteLine($"{objective}: {result.FinalObjective:0.###} after {result.StepsDone} steps ({result.Stop}); wrote {string.Join(", ", files)}");
            if (result.Stop == RenderStop.NonFinite)
                Console.Error.WriteLine($"stopped: the objective or its gradient became NaN or infinite at step {result.StepsDone + 1}; " +
                    $"kept the last finite image (after {result.StepsDone} steps)");
            return result.Stop switch { RenderStop.NonFinite => 3, RenderStop.Cancelled => 130, _ => 0 };
        });
        return command;
    }

    /// <summary>The objective from --objective, --class, or --layer with an optional --channel; validated against the model.</summary>
    public static Objective ParseObjective(ParseResult parse, Models.Model model)
    {
        Objective objective;
        if (parse.GetValue(ObjectiveText) is { } text) objective = Objective.Parse(text);
        else if (parse.GetValue(Like) is { } photoPath)
        {
            using var photo = Imaging.ImageIO.Load(photoPath, model.InputWidth, model.InputHeight);
            objective = Objective.LikeImage(model, photo, parse.GetValue(Layer), Path.GetFileNameWithoutExtension(photoPath));
        }
        else if (parse.GetValue(ClassOption) is { } label)
            objective = Objective.ClassLogit(ClassLabels.Resolve(model, label));
        else if (parse.GetValue(Layer) is { } layer)
        {
            if (parse.GetValue(Channel) is { } channel)
            {
                model.CheckChannel(layer, channel);
                objective = Objective.Channel(layer, channel);
            }
            else objective = Objective.Layer(layer);
        }
        else throw new ArgumentException("say what to visualize: --layer (with --channel), --class, --like or --objective");
        foreach (var tap in objective.Taps) model.ResolveTap(tap);
        return objective;
    }
}
