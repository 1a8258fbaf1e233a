using System.Text;
using ResearchKit.Diagnostics;

namespace ResearchKit.Reports;

public sealed partial class Gallery
{
    /// <summary>The dumbbell lab twice: with the planted arm (the verdict should be yes) and without it (no).</summary>
    string Dumbbell()
    {
        var lab = new DumbbellLabSettings(Seed: _settings.Seed);
        if (_settings.DumbbellEpochs > 0) lab = lab with { Epochs = _settings.DumbbellEpochs, TrainImagesPerClass = 120, TestImagesPerClass = 40, ProbeImages = 60 };
        var html = new StringBuilder(HtmlPage.Paragraph("A small classifier is trained on synthetic shapes where an arm-coloured bar accompanies most training " +
            "dumbbells, as arms did in the photos behind Inceptionism's dumbbell. Its class visualizations are scored for the planted " +
            "feature, and its accuracy on dumbbells is measured with and without the arm. The control is trained without the arm."));
        foreach (var (name, run) in new[] { ("planted", lab), ("control", lab.AsControl()) })
        {
            _cancellation.ThrowIfCancellationRequested();
            var progress = new SynchronousProgress<DumbbellLabProgress>(p => _progress?.Report(new GalleryProgress("dumbbell", $"lab ({name})", (int)(p.Fraction * 100), 100)));
            using var report = DumbbellLab.Run(run, progress: progress, cancellationToken: _cancellation);
            report.WriteTo(Path.Combine(_images, $"dumbbell-{name}"));
            html.AppendLine($"<h3>{(name == "planted" ? "Trained with the arm" : "Control: trained without it")}</h3>");
            html.AppendLine($"<p class=\"verdict\">Relies on the planted feature: {(report.ReliesOnPlantedFeature ? "yes" : "no")}</p>");
            html.AppendLine(HtmlPage.Paragraph($"{report.Rule}."));
            html.AppendLine(HtmlPage.Table(["test accuracy", "dumbbells with arm", "same without arm", "arm alone called dumbbell"],
                [[P(report.TestAccuracy), P(report.AccuracyWithFeature), P(report.AccuracyWithoutFeature), P(report.ArmOnlyDumbbellRate)]]));
            html.AppendLine(HtmlPage.Figure($"images/dumbbell-{name}/visualizations.png", $"class visualizations ({name}), captioned with planted-feature scores",
                $"images/dumbbell-{name}/summary.json", wide: true));
            html.AppendLine(_charts.Bars($"Planted-feature score per class ({name})", [.. report.PlantedFeatureScores.Keys],
                [.. report.PlantedFeatureScores.Values], "score"));
        }
        return html.ToString();
    }

    static string P(double fraction) => F(100 * fraction, "0") + " %";
}
