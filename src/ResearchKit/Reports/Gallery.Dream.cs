using System.Text;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Objectives;

namespace ResearchKit.Reports;

public sealed partial class Gallery
{
    /// <summary>The classroom moment of the original work: lower blocks add strokes and textures, higher ones object parts.</summary>
    string LayerDream()
    {
        using var photo = ImageIO.Load(Photo);
        using var sized = ImageOps.ResizeShorterSide(photo, _settings.DreamSide * 2 / 3);
        var settings = new DreamSettings(Objective.Layer(Blocks[0]))
        {
            Octaves = _settings.DreamOctaves,
            StepsPerOctave = _settings.DreamSteps,
            Seed = _settings.Seed,
        };
        using var comparison = Dream.CompareLayers(_model, sized, settings, Blocks, Steps("dream", "dreaming"), cancellation: _cancellation);
        _cancellation.ThrowIfCancellationRequested();
        comparison.Save(Path.Combine(_images, "dream-layers.png"), overwrite: true, source: Photo);
        var html = new StringBuilder(HtmlPage.Paragraph("\"Whatever you see there, I want more of it\": the photo is changed by gradient ascent on the mean " +
            $"squared activation of one block ({settings.Octaves} octaves x {settings.StepsPerOctave} steps). " +
            "Lower blocks amplify strokes and textures, higher blocks amplify object parts."));
        html.AppendLine(HtmlPage.Figure("images/dream-layers.png", "the photo, then the photo dreamt at each block", "images/" + Sidecar.PathFor("dream-layers.png"), wide: true));
        html.AppendLine(HtmlPage.Table(["block", "objective before", "after"],
            comparison.Dreams.Select(d => (IReadOnlyList<string>)[d.Layer, F(d.Dream.ObjectiveBefore), F(d.Dream.ObjectiveAfter)])));
        return html.ToString();
    }
}
