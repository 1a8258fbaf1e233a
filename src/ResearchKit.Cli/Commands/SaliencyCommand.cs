using System.CommandLine;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Objectives;
using static TorchSharp.torch;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit saliency photo.jpg --class C</c>: where the model looks, as saliency and Grad-CAM overlays.</summary>
static class SaliencyCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "Image file" };
        var camLayer = new Option<string?>("--cam-layer") { Description = "Layer for Grad-CAM (default: the last layerN block)" };
        var output = new Option<string>("--out") { Description = "Output sheet (PNG): photo, saliency, Grad-CAM", Required = true };
        var command = new Command("saliency", "Saliency (input gradient) and Grad-CAM heat maps of a class, channel or objective over a photo")
            { image, VisualizeCommand.ClassOption, VisualizeCommand.Layer, VisualizeCommand.Channel, VisualizeCommand.ObjectiveText, camLayer, output };
        command.SetAction(parse =>
        {
            using var model = CommonOptions.LoadModel(parse);
            var objective = VisualizeCommand.ParseObjective(parse, model);
            var path = parse.GetValue(output)!;
            if (!parse.GetValue(CommonOptions.Force) && File.Exists(path)) throw new OutputExistsException(path);
            var layer = parse.GetValue(camLayer)
                ?? Enumerable.Range(1, 9).Select(i => $"layer{i}").LastOrDefault(model.Aliases.ContainsKey)
                ?? throw new ArgumentException("give --cam-layer: this model has no layerN blocks");
            using var scope = NewDisposeScope();
            var photo = ImageIO.Load(parse.GetValue(image)!, model.InputWidth, model.InputHeight);
            var saliency = Attribution.Attribution.Saliency(model, photo, objective);
            var cam = Attribution.Attribution.GradCam(model, photo, objective, layer);
            ContactSheet.Create(columns: 3).Title(objective.Description)
                .Add(photo, "photo")
                .Add(Attribution.Attribution.Overlay(photo, saliency), "saliency")
                .Add(Attribution.Attribution.Overlay(photo, cam), $"Grad-CAM {layer}")
                .Save(path);
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }
}
