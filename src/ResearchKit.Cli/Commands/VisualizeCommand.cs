using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit visualize --layer L --channel C</c>: activation maximization with a natural-image prior.</summary>
static class VisualizeCommand
{
    public static Command Create()
    {
        var batch = new Option<int>("--batch") { Description = "Render this many images at once", DefaultValueFactory = _ => 1 };
        var diversity = new Option<double>("--diversity") { Description = "Weight of the diversity term across the batch", DefaultValueFactory = _ => 0 };
        var parameterization = new Option<string?>("--param")
        {
            Description = $"Parameterization instead of the prior preset's: {string.Join(", ", Parameterization.Names)} " +
                "(maco also writes its transparency map beside the image: name-transparency.png and name-transparency-rgba.png)",
        };
        var transparency = new Option<bool>("--transparency")
        {
            Description = "Render with an alpha channel over random backgrounds, penalizing mean alpha; writes an RGBA PNG",
        };
        var output = OutputOptions.Out("Output image (PNG); settings go to a .json beside it");
        var command = new Command("visualize", "Render an image that maximizes a channel, a layer or a class, under a natural-image prior")
            { batch, diversity, parameterization, transparency, ModelOptions.Device, output };
        foreach (var option in ObjectiveOptions.All.Concat(RenderOptions.All)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputOptions.EnsureWritableWithSidecar(parse, path);
            using var model = ModelOptions.LoadOnDevice(parse);
            var objective = ObjectiveOptions.Parse(parse, model);
            if (parse.GetValue(diversity) is var weight and not 0)
                objective -= weight * Objective.Diversity(parse.GetValue(ObjectiveOptions.Layer) ?? objective.Taps.First());
            var plan = RenderOptions.Plan(parse, model, objective).Batch(parse.GetValue(batch));
            if (parse.GetValue(parameterization) is { } name) plan = plan.WithParameterization(Parameterization.Named(name));
            if (parse.GetValue(transparency)) plan = plan.Transparent();
            return RenderOptions.RunAndSave(parse, plan, path, "rendering");
        });
        return command;
    }
}
