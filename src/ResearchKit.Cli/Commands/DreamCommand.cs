using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Dreaming;
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
        var guide = new Option<string?>("--guide") { Description = "Guide image: amplify the features of --layer that best match the guide's (guided dream)", HelpName = "PATH" };
        var output = OutputOptions.Out("Output image; the settings go to a .json beside it");
        var options = new DreamOptions();
        var command = new Command("dream", "DeepDream: amplify what a layer sees in a photo, over several octaves")
            { photo, layer, ObjectiveOptions.Shorthand, guide, output };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputOptions.EnsureWritableWithSidecar(parse, path);
            using var model = ModelOptions.LoadOnDevice(parse);
            Objective goal;
            if (parse.GetValue(guide) is { } guidePath)
            {
                using var guideImage = options.LoadPhoto(parse, guidePath);
                goal = Dream.Guide(model, parse.GetValue(layer)!, guideImage, Path.GetFileName(guidePath));
            }
            else goal = parse.GetValue(ObjectiveOptions.Shorthand) is { } text ? Objective.Parse(text) : Objective.Layer(parse.GetValue(layer)!);
            var settings = options.Settings(parse, goal);
            string source = parse.GetValue(photo)!;
            using var image = options.LoadPhoto(parse, source);

            using var dream = Dream.Run(model, image, settings, new ProgressBar("dreaming", settings.TotalSteps), cancellation: CliRunner.Cancellation.Token);
            var files = dream.Save(path, OutputOptions.Overwrite(parse), source, Environment.CommandLine);
            Console.WriteLine($"{goal}: {dream.ObjectiveBefore:0.###} -> {dream.ObjectiveAfter:0.###} after {dream.StepsDone} steps" +
                $"{(dream.Stop == RenderStop.Cancelled ? " (cancelled)" : "")}; wrote {string.Join(", ", files)}");
            return CliRunner.ExitCode(dream.Stop, dream.StepsDone);
        });
        return command;
    }
}
