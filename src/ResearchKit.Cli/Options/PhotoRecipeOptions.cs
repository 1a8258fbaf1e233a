using System.CommandLine;
using ResearchKit.Models;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using static TorchSharp.torch;

namespace ResearchKit.Cli.Options;

/// <summary>
/// What a command that renders from a photo at one layer takes (<c>invert</c>, <c>caricature</c>): the photo, --layer,
/// --out, the render options with the recipe's own preset as --prior's default, and --device; and how it runs.
/// </summary>
sealed class PhotoRecipeOptions(PriorPreset preset)
{
    readonly Argument<string> _photo = new("photo") { Description = "Photo (PNG, JPEG, WebP), fitted to --size (default: the model's input size) around its centre" };
    readonly Option<string> _output = OutputOptions.Out("Output image (PNG); settings go to a .json beside it");
    readonly Option<string> _prior = RenderOptions.PriorOption(preset);

    public Command Command(string name, string description, params Option[] extra)
    {
        var command = new Command(name, description) { _photo, ObjectiveOptions.Layer, _output, _prior, ModelOptions.Device };
        foreach (var option in RenderOptions.AllButPrior.Concat(extra)) command.Options.Add(option);
        return command;
    }

    /// <summary>Loads the model and the photo, makes the recipe's plan (model, photo, layer, photo name), runs and saves it.</summary>
    public int Run(ParseResult parse, string verb, Func<Model, Tensor, string, string, RenderPlan> recipe)
    {
        string path = parse.GetValue(_output)!;
        OutputOptions.EnsureWritableWithSidecar(parse, path);
        string layer = ObjectiveOptions.RequireLayer(parse);
        using var model = ModelOptions.LoadOnDevice(parse);
        model.ResolveTap(layer);
        string source = parse.GetValue(_photo)!;
        using var photo = RenderOptions.LoadPhoto(parse, model, source);
        var plan = RenderOptions.Adjust(parse, recipe(model, photo, layer, Path.GetFileNameWithoutExtension(source)), _prior);
        return RenderOptions.RunAndSave(parse, plan, path, verb);
    }
}
