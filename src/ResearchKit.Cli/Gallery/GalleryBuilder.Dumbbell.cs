using System.Text;
using ResearchKit.Cli.Commands;
using ResearchKit.Diagnostics;

namespace ResearchKit.Cli.Gallery;

sealed partial class GalleryBuilder
{
    /// <summary>The dumbbell lab twice: with the planted arm (the verdict should be yes) and without it (no).</summary>
    string Dumbbell()
    {
        var lab = new DumbbellLabSettings(Seed: settings.Seed);
        if (settings.DumbbellEpochs > 0) lab = lab with { Epochs = settings.DumbbellEpochs, TrainImagesPerClass = 120, TestImagesPerClass = 40, ProbeImages = 60 };
        var html = new StringBuilder("<p>A small classifier is trained on synthetic shapes where an arm-coloured bar accompanies most training " +
            "dumbbells, as arms did in the photos behind Inceptionism's dumbbell. Its class visualizations are scored for the planted " +
            "feature, and its accuracy on dumbbells is measured with and without the arm. The control is trained without the arm.</p>\n");
        foreach (var (name, run) in new[] { ("planted", lab), ("control", lab.AsControl()) })
        {
            cancellation.ThrowIfCancellationRequested();
            var bar = new ProgressBar($"  dumbbell lab ({name})", 100);
            using var report = DumbbellLab.Run(run, progress: new SynchronousProgress<DumbbellLabProgress>(p => bar.Report((int)(p.Fraction * 100))),
                cancellationToken: cancellation);
            report.WriteTo(Path.Combine(_images, $"dumbbell-{name}"));
            html.AppendLine($"<h3>{(name == "planted" ? "Trained with the arm" : "Control: trained without it")}</h3>");
            html.AppendLine($"<p class=\"verdict\">Relies on the planted feature: {(report.ReliesOnPlantedFeature ? "yes" : "no")}</p>");
            html.AppendLine($"<p>{Html(report.Rule)}.</p>");
            html.AppendLine("<table><tr><th>test accuracy</th><th>dumbbells with arm</th><th>same without arm</th><th>arm alone called dumbbell</th></tr>" +
                $"<tr><td>{report.TestAccuracy:P0}</td><td>{report.AccuracyWithFeature:P0}</td><td>{report.AccuracyWithoutFeature:P0}</td><td>{report.ArmOnlyDumbbellRate:P0}</td></tr></table>");
            html.AppendLine(ImageTag($"images/dumbbell-{name}/visualizations.png", $"class visualizations ({name}), captioned with planted-feature scores"));
            html.AppendLine(Chart(Charts.Chart.Bars($"Planted-feature score per class ({name})", [.. report.PlantedFeatureScores.Keys],
                [.. report.PlantedFeatureScores.Values], "score")));
        }
        return html.ToString();
    }
}
