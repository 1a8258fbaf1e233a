using System.CommandLine;
using ResearchKit.Cli.Options;
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
        var output = OutputOptions.Out("Output sheet (PNG): photo, saliency, Grad-CAM");
        var command = new Command("saliency", "Saliency (input gradient) and Grad-CAM heat maps of a class, channel or objective over a photo")
            { image, ObjectiveOptions.Class, ObjectiveOptions.Layer, ObjectiveOptions.Channel, ObjectiveOptions.Shorthand, camLayer, output };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(output)!;
            OutputOptions.EnsureWritable(parse, path);
            using var model = ModelOptions.Load(parse);
            var objective = ObjectiveOptions.Parse(parse, model);
            var layer = parse.GetValue(camLayer)
                ?? model.NumberedLayers().LastOrDefault()
                ?? throw new InvalidSettingException("give --cam-layer: this model has no layerN blocks");
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
