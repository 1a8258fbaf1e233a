using System.Text;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;

namespace ResearchKit.Cli.Gallery;

sealed partial class GalleryBuilder
{
    /// <summary>The classroom moment of the original work: lower blocks add strokes and textures, higher ones object parts.</summary>
    string LayerDream()
    {
        using var photo = ImageIO.Load(Photo);
        using var sized = ImageOps.ResizeShorterSide(photo, settings.DreamSide * 2 / 3);
        var dreamSettings = new DreamSettings(Objectives.Objective.Layer(Blocks[0]))
        {
            Octaves = settings.DreamOctaves,
            StepsPerOctave = settings.DreamSteps,
            Seed = settings.Seed,
        };
        var bar = new ProgressBar("  dreaming", Blocks.Count * dreamSettings.Octaves * dreamSettings.StepsPerOctave);
        int done = 0;
        using var comparison = Dream.CompareLayers(model, sized, dreamSettings, Blocks, onStep: _ => bar.Report(++done), cancellation: cancellation);
        comparison.Save(Path.Combine(_images, "dream-layers.png"), overwrite: true, source: Photo);
        var html = new StringBuilder("<p>\"Whatever you see there, I want more of it\": the photo is changed by gradient ascent on the mean " +
            $"squared activation of one block ({dreamSettings.Octaves} octaves x {dreamSettings.StepsPerOctave} steps). " +
            "Lower blocks amplify strokes and textures, higher blocks amplify object parts.</p>\n");
        html.AppendLine(ImageTag("images/dream-layers.png", "the photo dreamt at each block"));
        html.AppendLine("<table><tr><th>block</th><th>objective before</th><th>after</th></tr>");
        foreach (var (layer, dream) in comparison.Dreams)
            html.AppendLine($"<tr><td>{Html(layer)}</td><td>{dream.ObjectiveBefore:0.###}</td><td>{dream.ObjectiveAfter:0.###}</td></tr>");
        html.AppendLine("</table>");
        return html.ToString();
    }
}
