using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit caricature photo.jpg --layer layer3 --out c.png</c>: exaggerate what a layer sees in a photo (Lucid's caricature).</summary>
static class CaricatureCommand
{
    public static Command Create()
    {
        var cosinePower = new Option<double>("--cosine-power")
        {
            Description = "How much matching the photo's pattern counts besides its strength: the objective is the dot product times cosine^power",
            DefaultValueFactory = _ => 1,
        };
        var options = new PhotoRecipeOptions(PriorPresets.Lucid);
        var command = options.Command("caricature", "Caricature: render an image that exaggerates what a layer sees in a photo", cosinePower);
        command.SetAction(parse => options.Run(parse, "caricaturing",
            (model, photo, layer, name) => Render.Caricature(model, photo, layer, parse.GetValue(cosinePower), name)));
        return command;
    }
}
