using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit invert photo.jpg --layer layer2 --out i.png</c>: feature inversion (Mahendran &amp; Vedaldi 2015).</summary>
static class InvertCommand
{
    public static Command Create()
    {
        var options = new PhotoRecipeOptions(PriorPresets.MahendranVedaldi2015);
        var command = options.Command("invert", "Feature inversion: render an image whose activations at a layer match a photo's (what the layer keeps of it)");
        command.SetAction(parse => options.Run(parse, "inverting", (model, photo, layer, name) => Render.Inversion(model, photo, layer, name)));
        return command;
    }
}
